import type { Condition } from '@medplum/fhirtypes';
import { conceptLabel, conceptText, normaliseIcd10 } from './codings.js';
import { addWeeks, parseFhirDate } from './fhir-time.js';
import {
  ACUTE_BACK_PAIN_SNOMED,
  CHRONIC_BY_CODE,
  CONDITION_VALUE_SETS,
  type ConditionGroup,
  SYSTEM,
} from './value-sets.js';

const COUNTED_CLINICAL: ReadonlySet<string> = new Set(['active', 'recurrence', 'relapse']);
const EXCLUDED_VERIFICATION: ReadonlySet<string> = new Set(['refuted', 'entered-in-error']);

/** Counted Condition: active, recurrence or relapse (or no status), and not refuted or entered in error. */
export function isCountedCondition(condition: Condition): boolean {
  const clinical = condition.clinicalStatus;
  if (clinical && !(clinical.coding ?? []).some((coding) => COUNTED_CLINICAL.has(coding.code ?? ''))) {
    return false;
  }
  return !(condition.verificationStatus?.coding ?? []).some((coding) =>
    EXCLUDED_VERIFICATION.has(coding.code ?? ''),
  );
}

function startsWithAny(code: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => code.startsWith(prefix));
}

/**
 * Whether the condition's SNOMED CT or ICD-10-CM codes match, else (coded in neither) whether its text does.
 * The rules ask this of every Condition for a dozen groups per call, so the codings are read in place.
 */
function matchesCodes(
  condition: Condition,
  snomed: ReadonlySet<string>,
  icd10Matches: (code: string) => boolean,
  textPattern: RegExp,
): boolean {
  let coded = false;
  for (const coding of condition.code?.coding ?? []) {
    const code = coding.code;
    if (!code) {
      continue;
    }
    if (coding.system === SYSTEM.snomed) {
      coded = true;
      if (snomed.has(code)) {
        return true;
      }
    } else if (coding.system === SYSTEM.icd10cm) {
      coded = true;
      if (icd10Matches(normaliseIcd10(code))) {
        return true;
      }
    }
  }
  // The text fallback is for conditions coded in neither terminology (free text or local codes only).
  return !coded && textPattern.test(conceptText(condition.code));
}

export function isInGroup(condition: Condition, group: ConditionGroup): boolean {
  const valueSet = CONDITION_VALUE_SETS[group];
  return matchesCodes(
    condition,
    valueSet.snomed,
    (code) => startsWithAny(code, valueSet.icd10Prefixes) && !startsWithAny(code, valueSet.icd10Excluded),
    valueSet.textPattern,
  );
}

const CHRONIC_TEXT = /\bchronic\b/i;
/** Acute, unless the text also says chronic ("acute on chronic back pain" is chronic). */
const ACUTE_TEXT = /^(?!.*\bchronic\b).*\bacute\b/is;

function isChronicByCode(condition: Condition): boolean {
  return matchesCodes(
    condition,
    CHRONIC_BY_CODE.snomed,
    (code) => startsWithAny(code, CHRONIC_BY_CODE.icd10Prefixes),
    CHRONIC_TEXT,
  );
}

export function conditionOnset(condition: Condition): Date | undefined {
  return (
    parseFhirDate(condition.onsetDateTime) ??
    parseFhirDate(condition.onsetPeriod?.start) ??
    parseFhirDate(condition.recordedDate)
  );
}

/** A counted back/neck pain or spasm condition that is chronic by code or began at least N weeks ago. */
export function chronicBackPainConditions(
  conditions: readonly Condition[],
  now: Date,
  minWeeks: number,
): Condition[] {
  const onsetLimit = addWeeks(now, -minWeeks);
  return conditions.filter((condition) => {
    if (!isCountedCondition(condition) || !isInGroup(condition, 'backPain')) {
      return false;
    }
    if (matchesCodes(condition, ACUTE_BACK_PAIN_SNOMED, () => false, ACUTE_TEXT)) {
      return false;
    }
    if (isChronicByCode(condition)) {
      return true;
    }
    const onset = conditionOnset(condition);
    return onset !== undefined && onset <= onsetLimit;
  });
}

export type Symptom = 'chronic pain' | 'cramps or spasm' | 'neuropathy' | 'neurological symptoms' | 'anaemia';

/**
 * Change 5: the symptoms that mean neurological involvement, which alone make the B12 regimen
 * intramuscular. Pain, cramps and anaemia raise urgency only.
 */
export const NEUROLOGICAL_SYMPTOMS: ReadonlySet<Symptom> = new Set(['neuropathy', 'neurological symptoms']);

/** Symptoms that raise the urgency of B12 testing, as found on the record. */
export function b12Symptoms(
  conditions: readonly Condition[],
  now: Date,
  chronicPainMinWeeks: number,
): { symptoms: Symptom[]; conditions: Condition[] } {
  const found = new Map<Symptom, Condition>();
  // Cramps are part of the back pain definition; name them as cramps so the card says what was found.
  const backPain = chronicBackPainConditions(conditions, now, chronicPainMinWeeks).find(
    (condition) => !isInGroup(condition, 'crampOrSpasm'),
  );
  if (backPain) {
    found.set('chronic pain', backPain);
  }
  const groups: [ConditionGroup, Symptom][] = [
    ['crampOrSpasm', 'cramps or spasm'],
    ['neuropathy', 'neuropathy'],
    ['otherNeurological', 'neurological symptoms'],
    ['anaemia', 'anaemia'],
  ];
  for (const [group, symptom] of groups) {
    const match = countedInGroup(conditions, group)[0];
    if (match) {
      found.set(symptom, match);
    }
  }
  return { symptoms: [...found.keys()], conditions: [...found.values()] };
}

/** The counted Conditions of a group. */
export function countedInGroup(conditions: readonly Condition[], group: ConditionGroup): Condition[] {
  return conditions.filter((condition) => isCountedCondition(condition) && isInGroup(condition, group));
}

/**
 * Change 11: a counted pregnancy Condition whose onset (else recorded date) is within the window. One with
 * no date at all counts: the safe reading is that the patient may be pregnant.
 */
export function currentPregnancy(
  conditions: readonly Condition[],
  now: Date,
  onsetWithinWeeks: number,
): Condition | undefined {
  const earliest = addWeeks(now, -onsetWithinWeeks);
  return countedInGroup(conditions, 'pregnancy').find((condition) => {
    const onset = conditionOnset(condition);
    return onset === undefined || (onset >= earliest && onset <= addWeeks(now, 1));
  });
}

/** The condition's name for a card, without SNOMED's semantic tag ("Chronic pain (finding)"). */
export function conditionName(condition: Condition): string {
  return (conceptLabel(condition.code) ?? 'Condition').replace(/\s*\((finding|disorder|situation)\)$/i, '');
}
