import type { ClinicalConfig } from './clinical-config.js';
import type { RuleId } from './catalog.js';
import type { Finding } from './findings.js';
import type { HookInput, HookName, PatientRecord } from './patient-record.js';
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
  return ruleIds
    .filter((id) => RULES[id].hooks.includes(input.hook))
    .map((id) => RULES[id].evaluate(record, input, config))
    .filter((finding): finding is Finding => finding !== undefined);
}
