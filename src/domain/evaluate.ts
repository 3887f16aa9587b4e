import type { ClinicalConfig } from './clinical-config.js';
import type { RuleId } from './card-and-order-schemas.js';
import { currentPregnancy } from './conditions.js';
import { ageInYears, parseFhirDate } from './fhir-time.js';
import type { Finding } from './findings.js';
import type { HookName } from './hooks.js';
import type { HookInput, PatientRecord } from './patient-record.js';
import { evaluateB12Exposure, evaluateB12NewDrug, evaluateFolicAcidGuard } from './rules/b12-drug-risk.js';
import { evaluateSpinePreop } from './rules/spine-preop-vitamin-d.js';
import { evaluateVitaminDBackPain } from './rules/vitamin-d-back-pain.js';

interface Rule {
  readonly hooks: readonly HookName[];
  readonly evaluate: (record: PatientRecord, input: HookInput, config: ClinicalConfig) => Finding | undefined;
}

export const RULES: Readonly<Record<RuleId, Rule>> = {
  VD: { hooks: ['patient-view'], evaluate: evaluateVitaminDBackPain },
  SP: { hooks: ['patient-view', 'order-select', 'order-sign'], evaluate: evaluateSpinePreop },
  B12: { hooks: ['patient-view'], evaluate: evaluateB12Exposure },
  'B12-NEW-DRUG': { hooks: ['order-select', 'order-sign'], evaluate: evaluateB12NewDrug },
  'FOLIC-ACID': { hooks: ['order-select', 'order-sign'], evaluate: evaluateFolicAcidGuard },
};

/**
 * The last day a partial birth date allows ("2008" is up to 31 December 2008, "2008-06" up to 30 June): a
 * patient counts as an adult only when even that day is old enough.
 */
function latestBirth(birthDate: string | undefined): Date | undefined {
  const birth = parseFhirDate(birthDate);
  if (birth === undefined || birthDate === undefined) {
    return undefined;
  }
  if (/^\d{4}$/.test(birthDate)) {
    return new Date(Date.UTC(birth.getUTCFullYear(), 11, 31));
  }
  if (/^\d{4}-\d{2}$/.test(birthDate)) {
    return new Date(Date.UTC(birth.getUTCFullYear(), birth.getUTCMonth() + 1, 0));
  }
  return birth;
}

/**
 * Change 11: adult thresholds and doses. A birth date that is missing or not a date leaves the age unknown,
 * and the patient is treated as an adult.
 */
function isUnderAge(record: PatientRecord, now: Date, minimumAgeYears: number): boolean {
  const birth = latestBirth(record.patient?.birthDate);
  return birth !== undefined && ageInYears(birth, now) < minimumAgeYears;
}

/** Change 11: with a current pregnancy, cards suggest tests only, never a medication, and say so. */
function testsOnly(finding: Finding): Finding {
  const withoutMedication = finding.suggestions.filter((suggestion) => suggestion.kind === 'lab');
  const medicationTaken = withoutMedication.length < finding.suggestions.length;
  return {
    ...finding,
    notes: [...finding.notes, { id: 'pregnancy' }],
    suggestions: withoutMedication,
    showWithoutSuggestions: finding.showWithoutSuggestions === true || medicationTaken,
    testsOnly: medicationTaken,
  };
}

/** At most one finding per rule: each rule returns only its most severe situation. */
export function evaluateRules(
  ruleIds: readonly RuleId[],
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding[] {
  const patient = record.patient;
  // Advice about a deceased patient is noise at best.
  if (patient?.deceasedBoolean === true || patient?.deceasedDateTime !== undefined) {
    return [];
  }
  if (isUnderAge(record, input.now, config.minimumAgeYears)) {
    return [];
  }
  const findings = ruleIds
    .filter((id) => RULES[id].hooks.includes(input.hook))
    .map((id) => RULES[id].evaluate(record, input, config))
    .filter((finding): finding is Finding => finding !== undefined);
  const pregnant = currentPregnancy(record.conditions, input.now, config.pregnancy.onsetWithinWeeks);
  return findings.map((finding) => {
    const adjusted = pregnant ? testsOnly(finding) : finding;
    // Issue 12: a search that stopped at the page limit may have missed results or treatments.
    return record.truncated === true
      ? { ...adjusted, notes: [...adjusted.notes, { id: 'recordTruncated' as const }] }
      : adjusted;
  });
}
