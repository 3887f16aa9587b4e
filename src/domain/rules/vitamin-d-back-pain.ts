import type { ClinicalConfig } from '../clinical-config.js';
import { chronicBackPainConditions, conditionName } from '../conditions.js';
import { addMonths, addWeeks, formatDate, wholeWeeksBetween } from '../fhir-time.js';
import type { Finding } from '../findings.js';
import { vitaminDResults } from '../lab-results.js';
import { currentDrugUse } from '../medications.js';
import type { HookInput, PatientRecord } from '../patient-record.js';
import { recentSpineSurgery } from '../spine-surgery.js';
import {
  capitalise,
  classifyVitaminD,
  conditionFact,
  reportedValue,
  resultFact,
  shortLabel,
  repletionSuggestions,
} from './shared.js';

/**
 * Rule VD: chronic back or neck pain or spasm with no 25(OH)D in the window, or a low one (patient-view).
 * See ../shared/clinical/policy.md, "Rule VD".
 */
export function evaluateVitaminDBackPain(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding | undefined {
  const { now } = input;
  const settings = config.vitaminD;
  const pain = chronicBackPainConditions(record.conditions, now, config.chronicPainMinWeeks);
  const painCondition = pain[0];
  if (!painCondition) {
    return undefined;
  }
  const windowStart = addMonths(now, -settings.untestedWindowMonths);
  const latest = vitaminDResults(record.observations)[0];
  const painFacts = pain.slice(0, 3).map(conditionFact);
  const conditionLabel = capitalise(shortLabel(conditionName(painCondition)));
  const thresholds = `Deficiency below ${settings.deficientBelowNgMl} ng/mL; target ${settings.targetNgMl} ng/mL (25(OH)D, nmol/L × 0.4006 = ng/mL).`;

  if (!latest || latest.time < windowStart) {
    const surgery = recentSpineSurgery(record.procedures, now, config.spine.recentSurgeryMonths);
    return {
      ruleId: 'VD',
      situation: surgery ? 'vd-untested-after-surgery' : 'vd-untested',
      indicator: surgery ? 'warning' : 'info',
      vars: { condition: conditionLabel, windowMonths: String(settings.untestedWindowMonths) },
      facts: [
        ...painFacts,
        latest
          ? `Last ${resultFact(latest)}, older than ${settings.untestedWindowMonths} months`
          : 'No 25-hydroxyvitamin D result on record',
        ...(surgery
          ? [`Recent spine surgery: ${surgery.name}${surgery.date ? ` (${formatDate(surgery.date)})` : ''}`]
          : []),
      ],
      threshold: `No 25(OH)D result in the last ${settings.untestedWindowMonths} months.`,
      notes:
        latest?.normalisedValue === undefined && latest
          ? [{ id: 'unknownUnit', vars: { unit: latest.reportedUnit ?? 'none' } }]
          : [],
      suggestions: [{ kind: 'lab', lab: 'vitaminD', recommended: true }],
      selectionBehavior: 'at-most-one',
      reasonConditionId: painCondition.id,
    };
  }

  const status = classifyVitaminD(latest, settings.deficientBelowNgMl, settings.targetNgMl);
  if (status === 'adequate' || status === 'unclassified') {
    return undefined;
  }

  const therapy = currentDrugUse(
    [...record.medicationStatements, ...record.medicationRequests],
    windowStart,
  ).get('vitaminD');
  if (therapy?.start && therapy.start > latest.time) {
    if (therapy.start > addWeeks(now, -settings.recheckAfterWeeks)) {
      return undefined;
    }
    return {
      ruleId: 'VD',
      situation: 'vd-recheck',
      indicator: 'info',
      vars: { therapyWeeks: String(wholeWeeksBetween(therapy.start, now)) },
      facts: [
        ...painFacts,
        resultFact(latest),
        `Vitamin D therapy (${therapy.names.join(', ')}) since ${formatDate(therapy.start)}, no result since`,
      ],
      threshold: `Recheck ${settings.recheckAfterWeeks} weeks after starting repletion. ${thresholds}`,
      notes: [],
      suggestions: [{ kind: 'lab', lab: 'vitaminD', recommended: true }],
      selectionBehavior: 'at-most-one',
      reasonConditionId: painCondition.id,
    };
  }

  const deficient = status === 'deficient';
  return {
    ruleId: 'VD',
    situation: deficient ? 'vd-deficient' : 'vd-insufficient',
    indicator: deficient ? 'warning' : 'info',
    vars: {
      condition: conditionLabel,
      value: reportedValue(latest),
      date: formatDate(latest.time),
      target: String(settings.targetNgMl),
    },
    facts: [...painFacts, resultFact(latest)],
    threshold: thresholds,
    notes: [],
    suggestions: repletionSuggestions({
      deficient,
      recommendErgocalciferol: deficient,
      recheck: { kind: 'after-weeks', weeks: settings.recheckAfterWeeks },
    }),
    selectionBehavior: 'any',
    reasonConditionId: painCondition.id,
  };
}
