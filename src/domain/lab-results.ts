import type {
  CodeableConcept,
  DiagnosticReport,
  Observation,
  ObservationComponent,
} from '@medplum/fhirtypes';
import { DAY_MS, parseFhirDate } from './fhir-time.js';
import { type Analyte, normaliseValue } from './units.js';
import {
  B12_BLOOD_LOINC,
  B12_TOTAL_LOINC,
  CALCIUM_LOINC,
  CALCIUM_RESULT_CODES,
  HOLO_TC_LOINC,
  SYSTEM,
  VITAMIN_D_LOINC,
  VITAMIN_D_RESULT_CODES,
} from './value-sets.js';

const COUNTED_STATUSES: ReadonlySet<string> = new Set(['final', 'amended', 'corrected', 'preliminary']);

export type Comparator = '<' | '<=' | '>=' | '>';

/** One counted lab result, as the rules see it. */
export interface LabResult {
  readonly observationId: string | undefined;
  readonly analyte: Analyte;
  readonly time: Date;
  /** The date the card shows: as written on the record, in the lab's own time zone (YYYY-MM-DD or partial). */
  readonly date: string;
  /** As reported, for the card. */
  readonly reportedValue: number;
  readonly reportedUnit: string | undefined;
  readonly comparator: Comparator | undefined;
  /** In the analyte's reporting unit; undefined when the unit is not recognised or the code is never classified. */
  readonly normalisedValue: number | undefined;
  /** B12 measured in whole blood: counted as a test, never classified (the thresholds are for serum). */
  readonly wholeBlood?: true;
  /** Other results of the same measurement, shown beside this one (total B12 beside active B12). */
  readonly alongside?: readonly LabResult[];
}

const COMPARATORS: ReadonlySet<string> = new Set(['<', '<=', '>=', '>']);

/** "ad" (sufficient to achieve this total) and anything unknown are read as no comparator. */
function asComparator(value: string | undefined): Comparator | undefined {
  return value !== undefined && COMPARATORS.has(value) ? (value as Comparator) : undefined;
}

interface RawValue {
  readonly value: number;
  readonly unit: string | undefined;
  /** The quantity's other unit field (its unit text beside its code, or the reverse), tried second. */
  readonly otherUnit?: string | undefined;
  readonly comparator: Comparator | undefined;
}

/** UCUM as FHIR names it, and as records also write it (its OID, a trailing slash). */
const UCUM_SYSTEMS: ReadonlySet<string> = new Set([
  SYSTEM.ucum,
  `${SYSTEM.ucum}/`,
  'urn:oid:2.16.840.1.113883.6.8',
]);

/** Longer than any real "<12,5 ng/mL"; the rest of a longer string is never read. */
const MAX_VALUE_STRING = 64;
/**
 * Comparator, number (decimal point or comma: "15,5 ng/mL" is 15.5) and unit. Linear: the whitespace runs are
 * separated by required characters, so no input can make the engine try two ways of splitting one run.
 */
const VALUE_STRING = /^\s*(?:(<=|>=|<|>)\s*)?(\d{1,9})(?:([.,])(\d{1,9}))?(?:\s*([^\d\s].*))?$/;

function readValueString(text: string | undefined): RawValue | undefined {
  if (typeof text !== 'string') {
    return undefined;
  }
  const match = VALUE_STRING.exec(text.slice(0, MAX_VALUE_STRING).trimEnd());
  const whole = match?.[2];
  if (!match || !whole) {
    return undefined;
  }
  const [, comparator, , separator, fraction, unit] = match;
  // "1,234" is a thousands separator (US), not a decimal comma: labs report these analytes to at most two
  // decimals, and reading it as 1.234 would call a normal B12 deficient.
  const thousands = separator === ',' && fraction?.length === 3 && /^[1-9]\d{0,2}$/.test(whole);
  const value = Number(
    fraction === undefined ? whole : thousands ? `${whole}${fraction}` : `${whole}.${fraction}`,
  );
  return { value, unit: unit?.trim(), comparator: asComparator(comparator) };
}

/**
 * Above any real value of these analytes in any of their units (B12 in pg/mL stays in the tens of thousands):
 * 1e308 is a data error, and would print as "Infinity" or "1e+22" in a card.
 */
const MAX_PLAUSIBLE_VALUE = 1_000_000;

/** Where a result's value is: the Observation itself, or one of its components (a panel's D2 and D3). */
type ValueSource = Pick<Observation | ObservationComponent, 'valueQuantity' | 'valueString'>;

/**
 * The value of a result. Negative, non-finite (JSON's 1e400 is Infinity) and implausibly large values are not
 * measurements of any of these analytes, so they are never classified: the result is left out.
 */
function readValue(source: ValueSource): RawValue | undefined {
  const quantity = source.valueQuantity;
  const raw =
    quantity?.value !== undefined
      ? {
          value: quantity.value,
          // A code is a UCUM unit when the quantity says UCUM (or names no system); a local system's unit
          // code means nothing to the conversion table, so the unit text comes first then. Whichever is
          // first, the other is tried when it is not a recognised unit.
          ...(quantity.system === undefined || UCUM_SYSTEMS.has(quantity.system)
            ? { unit: quantity.code ?? quantity.unit, otherUnit: quantity.unit }
            : { unit: quantity.unit ?? quantity.code, otherUnit: quantity.code }),
          comparator: asComparator(quantity.comparator),
        }
      : // Some labs send "<5 ng/mL" or "23" as a string.
        readValueString(source.valueString);
  return raw && raw.value >= 0 && raw.value < MAX_PLAUSIBLE_VALUE ? raw : undefined;
}

/**
 * The result's time (`effectiveDateTime`, else `effectivePeriod.start`, else `issued`), with the date the
 * card shows: the calendar date as the record writes it, in the time zone the lab gave (an evening draw in
 * New York, 2026-11-12T20:30-05:00, is 12 November there and on the clinician's screen, though 13 November
 * in UTC).
 */
function resultTime(observation: Observation): { time: Date; date: string } | undefined {
  for (const written of [
    observation.effectiveDateTime,
    observation.effectivePeriod?.start,
    observation.issued,
  ]) {
    const time = parseFhirDate(written);
    if (time && written) {
      return { time, date: written.slice(0, 10) };
    }
  }
  return undefined;
}

/** Results dated further ahead than this are data errors and are ignored (the caller logs how many). */
const FUTURE_TOLERANCE_DAYS = 1;

function isFutureDated(time: Date, now: Date): boolean {
  return time.getTime() > now.getTime() + FUTURE_TOLERANCE_DAYS * DAY_MS;
}

/** The concept's first LOINC code in a set, scanning the codings without building arrays (hot path). */
function loincCodeIn(concept: CodeableConcept, codes: ReadonlySet<string>): string | undefined {
  for (const coding of concept.coding ?? []) {
    if (coding.system === SYSTEM.loinc && coding.code !== undefined && codes.has(coding.code)) {
      return coding.code;
    }
  }
  return undefined;
}

function toResult(
  observation: Observation,
  source: ValueSource,
  analyte: Analyte,
  classify: boolean,
  now: Date,
): LabResult | undefined {
  if (!COUNTED_STATUSES.has(observation.status)) {
    return undefined;
  }
  const when = resultTime(observation);
  const raw = readValue(source);
  if (!when || !raw || isFutureDated(when.time, now)) {
    return undefined;
  }
  // The unit the value is read in: the first recognised of the quantity's two, else the first as sent.
  const unit =
    (classify &&
      [raw.unit, raw.otherUnit].find(
        (candidate) => normaliseValue(analyte, raw.value, candidate) !== undefined,
      )) ||
    raw.unit;
  return {
    observationId: observation.id,
    analyte,
    time: when.time,
    date: when.date,
    reportedValue: raw.value,
    reportedUnit: unit,
    comparator: raw.comparator,
    normalisedValue: classify ? normaliseValue(analyte, raw.value, unit) : undefined,
    ...(classify ? {} : { wholeBlood: true as const }),
  };
}

interface CodedResult {
  readonly code: string;
  readonly result: LabResult;
}

const MINUTE_MS = 60_000;

const minuteOf = (entry: CodedResult): number => Math.floor(entry.result.time.getTime() / MINUTE_MS);

/** The Observation id a DiagnosticReport result points at ("Observation/abc", absolute or relative). */
function referencedObservationId(reference: string | undefined): string | undefined {
  const index = reference?.lastIndexOf('Observation/') ?? -1;
  if (reference === undefined || index < 0 || (index > 0 && reference[index - 1] !== '/')) {
    return undefined;
  }
  return reference.slice(index + 'Observation/'.length).split('/')[0] || undefined;
}

/** Reports that were never valid say nothing about which results belong together. */
const VOID_REPORT: ReadonlySet<unknown> = new Set(['entered-in-error', 'cancelled']);

/** Which report each Observation id is part of (the first valid report that lists it). */
function reportOfObservation(reports: readonly DiagnosticReport[]): ReadonlyMap<string, number> {
  const reportOf = new Map<string, number>();
  reports.forEach((report, index) => {
    if (VOID_REPORT.has(report.status)) {
      return;
    }
    for (const result of report.result ?? []) {
      const id = referencedObservationId(result.reference);
      if (id !== undefined && !reportOf.has(id)) {
        reportOf.set(id, index);
      }
    }
  });
  return reportOf;
}

/**
 * Change 1: results with the same clinical time (to the minute) or in the same DiagnosticReport are one
 * measurement, and so are results linked through either. A report links only results taken within a day of
 * its first one: a report listing results from different dates (a cumulative report) holds several
 * measurements. Within a measurement the results are ordered newest first, then by id, so the answer never
 * depends on the order they arrived in.
 */
function byMeasurement(
  results: readonly CodedResult[],
  reportOf: ReadonlyMap<string, number>,
): CodedResult[][] {
  if (reportOf.size === 0) {
    return measurementsByMinute(results);
  }
  // Union-find with path halving and union by size: near-linear whatever links a hostile record makes.
  const parent = results.map((_, index) => index);
  const size = results.map(() => 1);
  const root = (index: number): number => {
    let at = index;
    while (parent[at] !== at) {
      const grandparent = parent[parent[at] ?? at] ?? at;
      parent[at] = grandparent;
      at = grandparent;
    }
    return at;
  };
  const join = (a: number, b: number): void => {
    let [big, small] = [root(a), root(b)];
    if (big === small) {
      return;
    }
    if ((size[big] ?? 0) < (size[small] ?? 0)) {
      [big, small] = [small, big];
    }
    parent[small] = big;
    size[big] = (size[big] ?? 0) + (size[small] ?? 0);
  };
  const firstAtMinute = new Map<number, number>();
  const firstInReport = new Map<number, number>();
  // Oldest first, so a report's day is counted from its earliest result whatever the arrival order.
  const byTime = results
    .map((_, index) => index)
    .sort((a, b) => (results[a]?.result.time.getTime() ?? 0) - (results[b]?.result.time.getTime() ?? 0));
  for (const index of byTime) {
    const entry = results[index];
    if (!entry) {
      continue;
    }
    const time = entry.result.time.getTime();
    const minute = minuteOf(entry);
    const sameMinute = firstAtMinute.get(minute);
    if (sameMinute === undefined) {
      firstAtMinute.set(minute, index);
    } else {
      join(index, sameMinute);
    }
    const id = entry.result.observationId;
    const report = id === undefined ? undefined : reportOf.get(id);
    if (report !== undefined) {
      const first = firstInReport.get(report);
      if (first === undefined) {
        firstInReport.set(report, index);
      } else if (Math.abs(time - (results[first]?.result.time.getTime() ?? time)) < DAY_MS) {
        join(index, first);
      }
    }
  }
  const groups = new Map<number, CodedResult[]>();
  results.forEach((entry, index) => {
    const key = root(index);
    const group = groups.get(key) ?? [];
    group.push(entry);
    groups.set(key, group);
  });
  return [...groups.values()].map((group) => group.sort(newestThenById));
}

/** Newest minute first; within a minute by id, so the choice never depends on seconds or arrival order. */
const newestThenById = (a: CodedResult, b: CodedResult): number =>
  minuteOf(b) - minuteOf(a) || (a.result.observationId ?? '').localeCompare(b.result.observationId ?? '');

/** The common case, with no report to link results: one measurement per minute (hot path). */
function measurementsByMinute(results: readonly CodedResult[]): CodedResult[][] {
  const groups = new Map<number, CodedResult[]>();
  for (const entry of results) {
    const minute = minuteOf(entry);
    const group = groups.get(minute);
    if (group) {
      group.push(entry);
    } else {
      groups.set(minute, [entry]);
    }
  }
  return [...groups.values()].map((group) => (group.length > 1 ? group.sort(newestThenById) : group));
}

const MAX_COMPONENTS = 20;

/**
 * The results the observations hold: each Observation's own value, and the values of its components (a panel
 * that reports D2 and D3 in one Observation), which share its status, time and id.
 */
function collect(
  observations: readonly Observation[],
  now: Date,
  pick: (code: CodeableConcept) => { code: string; analyte: Analyte; classify: boolean } | undefined,
): CodedResult[] {
  const results: CodedResult[] = [];
  /** Whether the value is a result of the analytes asked for (whether or not it could be read). */
  const add = (observation: Observation, code: CodeableConcept | undefined, source: ValueSource): boolean => {
    const kind = code && pick(code);
    const result = kind && toResult(observation, source, kind.analyte, kind.classify, now);
    if (kind && result) {
      results.push({ code: kind.code, result });
    }
    return kind !== undefined;
  };
  for (const observation of observations) {
    add(observation, observation.code, observation);
    // A real panel holds a handful of these results among its components; a crafted one with thousands is
    // read no further than this many (components of other tests are passed over, not counted).
    let matched = 0;
    for (const component of observation.component ?? []) {
      if (add(observation, component.code, component) && ++matched >= MAX_COMPONENTS) {
        break;
      }
    }
  }
  return results;
}

function newestFirst(results: LabResult[]): LabResult[] {
  return results.sort((a, b) => b.time.getTime() - a.time.getTime());
}

const classified = (entry: CodedResult | undefined): entry is CodedResult =>
  entry?.result.normalisedValue !== undefined;

/**
 * The value of one 25(OH)D measurement (change 1): a total (62292-8; 35365-6 in a recognised unit; 1989-3 or
 * 14635-7 with no D2 fraction beside it) whatever the arrival order; else the D2 and D3 fractions added up.
 * A fraction beside a total is never the value.
 */
function vitaminDValue(group: readonly CodedResult[]): LabResult | undefined {
  const withCode = (code: string) => group.filter((entry) => entry.code === code);
  const total = withCode(VITAMIN_D_LOINC.total);
  const legacy = withCode(VITAMIN_D_LOINC.legacyTotal);
  const d2 = withCode(VITAMIN_D_LOINC.d2Fraction);
  const d3 = [...withCode(VITAMIN_D_LOINC.d3Fraction), ...withCode(VITAMIN_D_LOINC.d3Molar)];
  const chosen =
    total.find(classified) ?? total[0] ?? legacy.find(classified) ?? (d2.length === 0 ? d3[0] : undefined);
  if (chosen) {
    return chosen.result;
  }
  const [fractionD2, fractionD3] = [d2.find(classified), d3.find(classified)];
  if (fractionD2 && fractionD3) {
    // Rounded to drop binary noise (10.1 + 0.2 is 10.299999999999999), which could also tip a boundary.
    const sum =
      Math.round(
        ((fractionD2.result.normalisedValue ?? 0) + (fractionD3.result.normalisedValue ?? 0)) * 1e6,
      ) / 1e6;
    return {
      ...fractionD3.result,
      reportedValue: sum,
      reportedUnit: 'ng/mL',
      comparator: undefined,
      normalisedValue: sum,
    };
  }
  // A lone D2 fraction (some labs still report their total under 49054-0) or an uninterpretable one.
  return (d2[0] ?? d3[0] ?? legacy[0])?.result;
}

/** Counted 25(OH)D measurements, newest first, one value each (change 1). */
export function vitaminDResults(
  observations: readonly Observation[],
  now: Date,
  reports: readonly DiagnosticReport[] = [],
): LabResult[] {
  const results = collect(observations, now, (concept) => {
    const code = loincCodeIn(concept, VITAMIN_D_RESULT_CODES);
    return code === undefined ? undefined : { code, analyte: 'vitaminD', classify: true };
  });
  return newestFirst(
    byMeasurement(results, reportOfObservation(reports))
      .map(vitaminDValue)
      .filter((result): result is LabResult => result !== undefined),
  );
}

/**
 * One B12 measurement (change 1): active B12 decides when it was measured with total B12 (it is the more
 * specific test), and the total is shown beside it. Whole-blood B12 is never classified.
 */
function b12Value(group: readonly CodedResult[]): LabResult | undefined {
  const decider =
    group.find((entry) => entry.result.analyte === 'holoTc' && classified(entry)) ??
    group.find((entry) => entry.result.analyte === 'b12' && classified(entry)) ??
    group[0];
  if (!decider) {
    return undefined;
  }
  const alongside = group.filter((entry) => entry !== decider).map((entry) => entry.result);
  return alongside.length > 0 ? { ...decider.result, alongside } : decider.result;
}

/** Counted B12 measurements (total B12 and holotranscobalamin), newest first. */
export function b12Results(
  observations: readonly Observation[],
  now: Date,
  reports: readonly DiagnosticReport[] = [],
): LabResult[] {
  const results = collect(observations, now, (concept) => {
    let code = loincCodeIn(concept, B12_TOTAL_LOINC);
    if (code !== undefined) {
      return { code, analyte: 'b12', classify: true };
    }
    code = loincCodeIn(concept, HOLO_TC_LOINC);
    if (code !== undefined) {
      return { code, analyte: 'holoTc', classify: true };
    }
    code = loincCodeIn(concept, B12_BLOOD_LOINC);
    return code === undefined ? undefined : { code, analyte: 'b12', classify: false };
  });
  return newestFirst(
    byMeasurement(results, reportOfObservation(reports))
      .map(b12Value)
      .filter((result): result is LabResult => result !== undefined),
  );
}

/** Serum calcium measurements in mg/dL, newest first; the albumin-corrected value when one was given. */
export function calciumResults(
  observations: readonly Observation[],
  now: Date,
  reports: readonly DiagnosticReport[] = [],
): LabResult[] {
  const results = collect(observations, now, (concept) => {
    const code = loincCodeIn(concept, CALCIUM_RESULT_CODES);
    return code === undefined ? undefined : { code, analyte: 'calcium', classify: true };
  });
  return newestFirst(
    byMeasurement(results, reportOfObservation(reports))
      .map(
        (group) =>
          (
            group.find((entry) => entry.code === CALCIUM_LOINC.albuminCorrected && classified(entry)) ??
            group.find(classified) ??
            group[0]
          )?.result,
      )
      .filter((result): result is LabResult => result !== undefined),
  );
}

/** How many of these results are dated more than a day after now, and so ignored by the rules. */
export function countFutureDatedResults(observations: readonly Observation[], now: Date): number {
  let count = 0;
  for (const observation of observations) {
    const when = resultTime(observation);
    if (when && isFutureDated(when.time, now)) {
      count += 1;
    }
  }
  return count;
}

/**
 * Whether a result is below a threshold. "<5" counts as below 5, so it is below any threshold of 5 or more.
 * A ">" value is below a threshold only if we cannot tell, which we treat as not below.
 */
export function isBelow(result: LabResult, threshold: number): boolean | undefined {
  const value = result.normalisedValue;
  if (value === undefined) {
    return undefined;
  }
  switch (result.comparator) {
    case '<':
      return value <= threshold;
    case '>':
    case '>=':
      return value >= threshold ? false : undefined;
    case '<=':
    case undefined:
      return value < threshold;
  }
}

/** Whether a result is above a threshold, with the same reading of comparators. */
export function isAbove(result: LabResult, threshold: number): boolean | undefined {
  const value = result.normalisedValue;
  if (value === undefined) {
    return undefined;
  }
  switch (result.comparator) {
    case '>':
      return value >= threshold;
    case '<':
    case '<=':
      return value <= threshold ? false : undefined;
    case '>=':
    case undefined:
      return value > threshold;
  }
}
