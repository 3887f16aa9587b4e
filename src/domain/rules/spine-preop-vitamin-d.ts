import type { ClinicalConfig } from '../clinical-config.js';
import { chronicBackPainConditions } from '../conditions.js';
import { addDays, addMonths, calendarDaysBetween, formatDate } from '../fhir-time.js';
import type { Finding, LabTiming } from '../findings.js';
import { vitaminDResults } from '../lab-results.js';
import type { HookInput, PatientRecord } from '../patient-record.js';
import { plannedSpineSurgeries, type SpineSurgery, spineSurgeryOrders } from '../spine-surgery.js';
import { vitaminDSafety } from '../vitamin-d-safety.js';
import { shortLabel } from './card-words.js';
import { classifyVitaminD } from './classify-results.js';
import { lowDespiteTherapyNotes, repletionSuggestions, vitaminDTherapy } from './repletion.js';
import { resultFact, summaryValue } from './result-facts.js';

function surgeryInFocus(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): SpineSurgery | undefined {
  switch (input.hook) {
    case 'patient-view':
      return plannedSpineSurgeries(
        record.serviceRequests,
        record.procedures,
        input.now,
        config.spine.plannedPastGraceDays,
      )[0];
    case 'order-select':
    case 'order-sign':
      return spineSurgeryOrders(input.focusOrders)[0];
  }
}

/**
 * Rule SP: spine surgery planned (patient-view) or being ordered (order-select, order-sign) without a
 * 25(OH)D from the pre-operative window at or above target. See policy.md, "Rule SP".
 */
export function evaluateSpinePreop(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding | undefined {
  const surgery = surgeryInFocus(record, input, config);
  if (!surgery) {
    return undefined;
  }
  const settings = config.spine;
  const { now } = input;
  const windowStart = addDays(now, -settings.preopWindowDays);
  const latest = vitaminDResults(record.observations, now, record.diagnosticReports)[0];
  const { day } = surgery;
  // Days to the operation from today where it takes place, when its record gives a time zone.
  const daysToGo = day && calendarDaysBetween(new Date(now.getTime() + (surgery.utcOffsetMs ?? 0)), day);
  const daysLeft = daysToGo !== undefined && daysToGo > 0 ? daysToGo : undefined;
  const surgeryFact = `${input.hook === 'patient-view' ? 'Planned' : 'Ordered'}: ${surgery.name}${day ? ` on ${formatDate(day)}` : ''}${daysLeft !== undefined ? ` (${daysLeft} days from now)` : ''}`;
  const procedure = `${shortLabel(surgery.name)}${day ? ` on ${formatDate(day)}` : ''}`;
  const reasonConditionId =
    surgery.reasonConditionId ??
    chronicBackPainConditions(record.conditions, now, config.chronicPainMinWeeks)[0]?.id;
  // Change 10: a recheck is drawn a week before a dated operation (today when that week has begun).
  const drawBy = day
    ? new Date(Math.max(now.getTime(), addDays(day, -settings.recheckDaysBeforeSurgery).getTime()))
    : undefined;
  const beforeSurgery: LabTiming = { kind: 'before-surgery', drawBy };
  const daysNote =
    daysLeft !== undefined ? [{ id: 'daysToSurgery' as const, vars: { days: String(daysLeft) } }] : [];

  if (!latest || latest.time < windowStart) {
    const status = latest && classifyVitaminD(latest, settings.deficientBelowNgMl, settings.targetNgMl);
    // Change 10: an adequate result that is merely older than the window asks for a recheck, not an alarm.
    if (latest && status === 'adequate' && latest.time >= addMonths(now, -settings.adequateRecheckMonths)) {
      return {
        ruleId: 'SP',
        situation: 'sp-recheck',
        indicator: 'info',
        vars: {
          procedure,
          value: summaryValue(latest),
          date: latest.date,
          windowDays: String(settings.preopWindowDays),
        },
        facts: [surgeryFact, `Last ${resultFact(latest)}, older than ${settings.preopWindowDays} days`],
        threshold: `A 25(OH)D result within ${settings.preopWindowDays} days before spine surgery, at or above ${settings.targetNgMl} ng/mL; an adequate result from the last ${settings.adequateRecheckMonths} months asks for a recheck only.`,
        notes: daysNote,
        suggestions: [{ kind: 'lab', lab: 'vitaminD', recommended: true, timing: beforeSurgery }],
        selectionBehavior: 'at-most-one',
        reasonConditionId,
      };
    }
    return {
      ruleId: 'SP',
      situation: 'sp-untested',
      indicator: 'warning',
      vars: { procedure, windowDays: String(settings.preopWindowDays) },
      facts: [
        surgeryFact,
        latest
          ? `Last ${resultFact(latest)}, older than ${settings.preopWindowDays} days`
          : 'No 25-hydroxyvitamin D result on record',
      ],
      threshold: `A 25(OH)D result within ${settings.preopWindowDays} days before spine surgery, at or above ${settings.targetNgMl} ng/mL.`,
      notes: [
        ...daysNote,
        ...(latest && latest.normalisedValue === undefined
          ? [{ id: 'unknownUnit' as const, vars: { unit: latest.reportedUnit ?? 'none' } }]
          : []),
      ],
      suggestions: [{ kind: 'lab', lab: 'vitaminD', recommended: true }],
      selectionBehavior: 'at-most-one',
      reasonConditionId,
    };
  }

  const status = classifyVitaminD(latest, settings.deficientBelowNgMl, settings.targetNgMl);
  if (status === 'adequate' || status === 'unclassified') {
    return undefined;
  }
  const deficient = status === 'deficient';
  const safety = vitaminDSafety(record, now, config);
  const therapyNotes = lowDespiteTherapyNotes(vitaminDTherapy(record, now, config), latest);
  const vars = {
    procedure,
    value: summaryValue(latest),
    date: latest.date,
    target: String(settings.targetNgMl),
  };
  const threshold = `Pre-operative target: at or above ${settings.targetNgMl} ng/mL; deficiency below ${settings.deficientBelowNgMl} ng/mL.`;
  if (safety.reasons.length > 0) {
    return {
      ruleId: 'SP',
      situation: 'sp-low-no-dose',
      indicator: 'warning',
      vars: { ...vars, reason: safety.reasons[0] ?? '' },
      facts: [surgeryFact, resultFact(latest), ...safety.facts],
      threshold,
      notes: [
        ...daysNote,
        ...therapyNotes,
        { id: 'noDoseContraindication', vars: { reasons: safety.reasons.join('; ') } },
      ],
      suggestions: safety.offerCalciumTest ? [{ kind: 'lab', lab: 'calcium', recommended: true }] : [],
      showWithoutSuggestions: true,
      selectionBehavior: 'at-most-one',
      reasonConditionId,
    };
  }
  return {
    ruleId: 'SP',
    situation: deficient ? 'sp-deficient' : 'sp-below-target',
    indicator: 'warning',
    vars,
    facts: [surgeryFact, resultFact(latest), ...safety.facts],
    threshold,
    notes: [...daysNote, ...therapyNotes, ...safety.notes],
    suggestions: repletionSuggestions({ deficient, recommendErgocalciferol: true, recheck: beforeSurgery }),
    selectionBehavior: 'any',
    reasonConditionId,
  };
}
