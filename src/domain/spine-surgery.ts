import type { CodeableConcept, Procedure, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { codesOf, conceptLabel } from './codings.js';
import { isDoNotPerform, isLiveOrder } from './existing-orders.js';
import { addDays, addMonths, parseFhirDate } from './fhir-time.js';
import { SPINE_SURGERY, SYSTEM } from './value-sets.js';

export function isSpineSurgeryConcept(concept: CodeableConcept | undefined): boolean {
  if (codesOf([concept], SYSTEM.snomed).some((code) => SPINE_SURGERY.snomed.has(code))) {
    return true;
  }
  return codesOf([concept], SYSTEM.cpt).some((code) => {
    if (SPINE_SURGERY.cpt.has(code)) {
      return true;
    }
    const numeric = /^\d{5}$/.test(code) ? Number(code) : Number.NaN;
    return SPINE_SURGERY.cptRanges.some(([low, high]) => numeric >= low && numeric <= high);
  });
}

export interface SpineSurgery {
  readonly name: string;
  readonly date: Date | undefined;
  /**
   * The day of the operation as the record writes it, in the hospital's own time zone (08:00+09:00 on the
   * 12th is the 12th, though the 11th in UTC): the day cards show and count to.
   */
  readonly day: Date | undefined;
  /** The time zone the record gives the operation's time in (ms east of UTC), when it gives a time. */
  readonly utcOffsetMs: number | undefined;
  /** The Condition the surgery is for, when the order says so. */
  readonly reasonConditionId: string | undefined;
}

const WALL_CLOCK = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/;

/** The written time's offset from UTC: its wall-clock time read as if UTC, less the instant it names. */
function utcOffsetOf(written: string | undefined, instant: Date | undefined): number | undefined {
  const wall = written === undefined ? undefined : WALL_CLOCK.exec(written);
  if (!wall || !instant) {
    return undefined;
  }
  const [, year, month, day, hour, minute] = wall.map(Number);
  return (
    Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute) - Math.floor(instant.getTime() / 60_000) * 60_000
  );
}

function describe(resource: ServiceRequest | Procedure): SpineSurgery {
  const written = (
    resource.resourceType === 'ServiceRequest'
      ? [resource.occurrenceDateTime, resource.occurrencePeriod?.start]
      : [resource.performedDateTime, resource.performedPeriod?.start]
  ).find((value) => parseFhirDate(value) !== undefined);
  const date = parseFhirDate(written);
  const reason = (resource.reasonReference ?? [])
    .map((reference) => reference.reference ?? '')
    .find((reference) => reference.startsWith('Condition/'));
  return {
    name: conceptLabel(resource.code) ?? 'Spine surgery',
    date,
    // A month or a year is not a day: "2026-12" is not 1 December, so nothing is counted to it.
    day: written !== undefined && written.length >= 10 ? parseFhirDate(written.slice(0, 10)) : undefined,
    utcOffsetMs: utcOffsetOf(written, date),
    reasonConditionId: reason?.slice('Condition/'.length),
  };
}

/** Earliest dated first, undated last: the operation closest in time is the one to prepare for. */
function soonestFirst(surgeries: SpineSurgery[]): SpineSurgery[] {
  return surgeries.sort(
    (a, b) =>
      (a.date?.getTime() ?? Number.POSITIVE_INFINITY) - (b.date?.getTime() ?? Number.POSITIVE_INFINITY),
  );
}

const PLANNED_REQUEST_STATUSES: ReadonlySet<string> = new Set(['draft', 'active', 'on-hold']);

/**
 * Planned spine surgery on record: a ServiceRequest draft/active/on-hold or a Procedure in preparation.
 * Change 10: never one marked `doNotPerform`, nor one dated more than `pastGraceDays` ago (an order left open
 * after the operation, or one that never happened).
 */
export function plannedSpineSurgeries(
  serviceRequests: readonly ServiceRequest[],
  procedures: readonly Procedure[],
  now: Date,
  pastGraceDays: number,
): SpineSurgery[] {
  const planned = [
    ...serviceRequests.filter((request) => PLANNED_REQUEST_STATUSES.has(request.status)),
    ...procedures.filter((procedure) => procedure.status === 'preparation'),
  ].filter((resource) => isSpineSurgeryConcept(resource.code) && !isDoNotPerform(resource));
  const earliest = addDays(now, -pastGraceDays);
  return soonestFirst(
    planned.map(describe).filter((surgery) => surgery.date === undefined || surgery.date >= earliest),
  );
}

/** Spine surgery among draft orders (ServiceRequest or Procedure) that still stand. */
export function spineSurgeryOrders(orders: readonly Resource[]): SpineSurgery[] {
  const surgeries = orders.filter(
    (order): order is ServiceRequest | Procedure =>
      (order.resourceType === 'ServiceRequest' || order.resourceType === 'Procedure') &&
      isLiveOrder(order) &&
      isSpineSurgeryConcept(order.code),
  );
  return soonestFirst(surgeries.map(describe));
}

/** A spine operation completed within the last N months. */
export function recentSpineSurgery(
  procedures: readonly Procedure[],
  now: Date,
  months: number,
): SpineSurgery | undefined {
  const since = addMonths(now, -months);
  return procedures
    .filter((procedure) => procedure.status === 'completed' && isSpineSurgeryConcept(procedure.code))
    .map((procedure) => {
      const surgery = describe(procedure);
      return { surgery, performed: parseFhirDate(procedure.performedPeriod?.end) ?? surgery.date };
    })
    .filter(({ performed }) => performed !== undefined && performed >= since && performed <= now)
    .map(({ surgery }) => surgery)[0];
}
