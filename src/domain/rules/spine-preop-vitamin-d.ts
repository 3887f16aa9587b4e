import type { ClinicalConfig } from '../clinical-config.js';
import { chronicBackPainConditions } from '../conditions.js';
import { addDays, formatDate } from '../fhir-time.js';
import type { Finding } from '../findings.js';
import { vitaminDResults } from '../lab-results.js';
import type { HookInput, PatientRecord } from '../patient-record.js';
import { plannedSpineSurgeries, type SpineSurgery, spineSurgeryOrders } from '../spine-surgery.js';
import { classifyVitaminD, reportedValue, resultFact, shortLabel, repletionSuggestions } from './shared.js';

function surgeryInFocus(record: PatientRecord, input: HookInput): SpineSurgery | undefined {
  switch (input.hook) {
    case 'patient-view':
      return plannedSpineSurgeries(record.serviceRequests, record.procedures)[0];
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
  const surgery = surgeryInFocus(record, input);
  if (!surgery) {
    return undefined;
  }
  const settings = config.spine;
  const { now } = input;
  const windowStart = addDays(now, -settings.preopWindowDays);
  const latest = vitaminDResults(record.observations)[0];
  const surgeryFact = `${input.hook === 'patient-view' ? 'Planned' : 'Ordered'}: ${surgery.name}${surgery.date ? ` on ${formatDate(surgery.date)}` : ''}`;
  const procedure = `${shortLabel(surgery.name)}${surgery.date ? ` on ${formatDate(surgery.date)}` : ''}`;
  const reasonConditionId =
    surgery.reasonConditionId ??
    chronicBackPainConditions(record.conditions, now, config.chronicPainMinWeeks)[0]?.id;

  if (!latest || latest.time < windowStart) {
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
      notes:
        latest && latest.normalisedValue === undefined
          ? [{ id: 'unknownUnit', vars: { unit: latest.reportedUnit ?? 'none' } }]
          : [],
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
  return {
    ruleId: 'SP',
    situation: deficient ? 'sp-deficient' : 'sp-below-target',
    indicator: 'warning',
    vars: {
      procedure,
      value: reportedValue(latest),
      date: formatDate(latest.time),
      target: String(settings.targetNgMl),
    },
    facts: [surgeryFact, resultFact(latest)],
    threshold: `Pre-operative target: at or above ${settings.targetNgMl} ng/mL; deficiency below ${settings.deficientBelowNgMl} ng/mL.`,
    notes: [],
    suggestions: repletionSuggestions({
      deficient,
      recommendErgocalciferol: true,
      recheck: { kind: 'before-surgery' },
    }),
    selectionBehavior: 'any',
    reasonConditionId,
  };
}
