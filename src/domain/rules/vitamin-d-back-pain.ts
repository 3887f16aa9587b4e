import type { ClinicalConfig } from '../clinical-config.js';
import { chronicBackPainConditions, conditionName } from '../conditions.js';
import { addMonths, addWeeks, formatDate, wholeWeeksBetween } from '../fhir-time.js';
import type { Finding } from '../findings.js';
import { type LabResult, vitaminDResults } from '../lab-results.js';
import type { HookInput, PatientRecord } from '../patient-record.js';
import { recentSpineSurgery } from '../spine-surgery.js';
import { vitaminDSafety } from '../vitamin-d-safety.js';
import { capitalise, shortLabel } from './card-words.js';
import { classifyVitaminD } from './classify-results.js';
import { lowDespiteTherapyNotes, repletionSuggestions, vitaminDTherapy } from './repletion.js';
import { conditionFact, resultFact, summaryValue } from './result-facts.js';

/**
 * Change 9: the untested card stays quiet while a result at or above target lies within the quiet window
 * and no low result came after it (Endocrine Society 2024 advises against routine follow-up testing).
 */
function recentlyAdequate(results: readonly LabResult[], now: Date, config: ClinicalConfig): boolean {
  const settings = config.vitaminD;
  const quietSince = addMonths(now, -settings.adequateQuietMonths);
  const classify = (result: LabResult) =>
    classifyVitaminD(result, settings.deficientBelowNgMl, settings.targetNgMl);
  // Newest first: the first adequate result within the window, with nothing low before it in this list.
  for (const result of results) {
    if (result.time < quietSince) {
      return false;
    }
    const status = classify(result);
    if (status === 'adequate') {
      return true;
    }
    if (status === 'deficient' || status === 'below-target') {
      return false;
    }
  }
  return false;
}

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
  const results = vitaminDResults(record.observations, now, record.diagnosticReports);
  const latest = results[0];
  const painFacts = pain.slice(0, 3).map(conditionFact);
  const conditionLabel = capitalise(shortLabel(conditionName(painCondition)));
  const thresholds = `Deficiency below ${settings.deficientBelowNgMl} ng/mL; target ${settings.targetNgMl} ng/mL (25(OH)D, nmol/L × 0.4006 = ng/mL).`;

  if (!latest || latest.time < windowStart) {
    if (recentlyAdequate(results, now, config)) {
      return undefined;
    }
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
          ? [`Recent spine surgery: ${surgery.name}${surgery.day ? ` (${formatDate(surgery.day)})` : ''}`]
          : []),
      ],
      threshold: `No 25(OH)D result in the last ${settings.untestedWindowMonths} months, and none at or above ${settings.targetNgMl} ng/mL in the last ${settings.adequateQuietMonths} months.`,
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

  const therapy = vitaminDTherapy(record, now, config);
  // Therapy started after the low result: a new course, or the first repletion begun after it on top of a
  // course that was running (a maintenance dose that did not work), whether or not it has ended since.
  const repletionStart =
    therapy?.start && therapy.start > latest.time
      ? therapy.start
      : therapy?.repletionStarts.find((start) => start > latest.time);
  if (therapy && repletionStart) {
    if (repletionStart > addWeeks(now, -settings.recheckAfterWeeks)) {
      return undefined;
    }
    return {
      ruleId: 'VD',
      situation: 'vd-recheck',
      indicator: 'info',
      vars: { therapyWeeks: String(wholeWeeksBetween(repletionStart, now)) },
      facts: [
        ...painFacts,
        resultFact(latest),
        `Vitamin D therapy (${therapy.names.join(', ')}) ${repletionStart === therapy.start ? 'since' : 'stepped up on'} ${formatDate(repletionStart)}, no result since`,
      ],
      threshold: `Recheck ${settings.recheckAfterWeeks} weeks after starting repletion. ${thresholds}`,
      notes: [],
      suggestions: [{ kind: 'lab', lab: 'vitaminD', recommended: true }],
      selectionBehavior: 'at-most-one',
      reasonConditionId: painCondition.id,
    };
  }

  const deficient = status === 'deficient';
  const safety = vitaminDSafety(record, now, config);
  const vars = {
    condition: conditionLabel,
    value: summaryValue(latest),
    date: latest.date,
    target: String(settings.targetNgMl),
  };
  const therapyNotes = lowDespiteTherapyNotes(therapy, latest);
  if (safety.reasons.length > 0) {
    return {
      ruleId: 'VD',
      situation: 'vd-low-no-dose',
      indicator: deficient ? 'warning' : 'info',
      vars: { ...vars, reason: safety.reasons[0] ?? '' },
      facts: [...painFacts, resultFact(latest), ...safety.facts],
      threshold: thresholds,
      notes: [
        ...therapyNotes,
        { id: 'noDoseContraindication', vars: { reasons: safety.reasons.join('; ') } },
      ],
      suggestions: safety.offerCalciumTest ? [{ kind: 'lab', lab: 'calcium', recommended: true }] : [],
      showWithoutSuggestions: true,
      selectionBehavior: 'at-most-one',
      reasonConditionId: painCondition.id,
    };
  }
  return {
    ruleId: 'VD',
    situation: deficient ? 'vd-deficient' : 'vd-insufficient',
    indicator: deficient ? 'warning' : 'info',
    vars,
    facts: [...painFacts, resultFact(latest), ...safety.facts],
    threshold: thresholds,
    notes: [...therapyNotes, ...safety.notes],
    suggestions: repletionSuggestions({
      deficient,
      recommendErgocalciferol: deficient,
      recheck: { kind: 'after-weeks', weeks: settings.recheckAfterWeeks },
    }),
    selectionBehavior: 'any',
    reasonConditionId: painCondition.id,
  };
}
