import type {
  CodeableConcept,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { codesOf, conceptLabel, conceptText } from './codings.js';
import { parseFhirDate } from './fhir-time.js';
import { DRUG_RXNORM, DRUG_TEXT, type DrugClass, SYSTEM } from './value-sets.js';

const DRUG_CLASSES = Object.keys(DRUG_RXNORM) as DrugClass[];

/**
 * The drug classes a medication concept belongs to: by RxNorm code first and, only when no coding matches,
 * by ingredient or brand name in its text (which also catches combination products).
 */
export function classifyConcept(concept: CodeableConcept | undefined): ReadonlySet<DrugClass> {
  const rxnorm = codesOf([concept], SYSTEM.rxnorm);
  const byCode = DRUG_CLASSES.filter((drug) => rxnorm.some((code) => DRUG_RXNORM[drug].has(code)));
  if (byCode.length > 0) {
    return new Set(byCode);
  }
  return classifyText(conceptText(concept));
}

/** Name matching runs a handful of regular expressions; the same product names recur across calls. */
const TEXT_CLASSES = new Map<string, ReadonlySet<DrugClass>>();
const TEXT_CLASSES_LIMIT = 10_000;

function classifyText(text: string): ReadonlySet<DrugClass> {
  let classes = TEXT_CLASSES.get(text);
  if (!classes) {
    classes = new Set(DRUG_CLASSES.filter((drug) => DRUG_TEXT[drug].test(text)));
    if (TEXT_CLASSES.size >= TEXT_CLASSES_LIMIT) {
      TEXT_CLASSES.clear();
    }
    TEXT_CLASSES.set(text, classes);
  }
  return classes;
}

type MedicationRecord = MedicationRequest | MedicationStatement;

/** The medication concept of a request or statement, following a contained Medication reference. */
export function medicationConcept(record: MedicationRecord): CodeableConcept | undefined {
  if (record.medicationCodeableConcept) {
    return record.medicationCodeableConcept;
  }
  const reference: Reference<Medication> | undefined = record.medicationReference;
  if (reference?.reference?.startsWith('#')) {
    const id = reference.reference.slice(1);
    const contained = (record.contained ?? []).find(
      (resource: Resource): resource is Medication =>
        resource.resourceType === 'Medication' && resource.id === id,
    );
    if (contained?.code) {
      return contained.code;
    }
  }
  return reference?.display ? { text: reference.display } : undefined;
}

export function medicationName(record: MedicationRecord): string {
  return conceptLabel(medicationConcept(record)) ?? 'medication';
}

const NEVER_TAKEN: ReadonlySet<string> = new Set(['entered-in-error', 'cancelled', 'not-taken']);

function recordStart(record: MedicationRecord): Date | undefined {
  if (record.resourceType === 'MedicationStatement') {
    return (
      parseFhirDate(record.effectivePeriod?.start) ??
      parseFhirDate(record.effectiveDateTime) ??
      parseFhirDate(record.dateAsserted)
    );
  }
  return parseFhirDate(record.authoredOn);
}

/**
 * Counted use: a statement active, intended or on hold (or completed with an end inside the window), or a
 * request active or on hold.
 */
function isCountedUse(record: MedicationRecord, windowStart: Date): boolean {
  if (record.resourceType === 'MedicationRequest') {
    return record.status === 'active' || record.status === 'on-hold';
  }
  if (record.status === 'active' || record.status === 'intended' || record.status === 'on-hold') {
    return true;
  }
  const end = parseFhirDate(record.effectivePeriod?.end);
  return record.status === 'completed' && end !== undefined && end >= windowStart;
}

export interface DrugUse {
  readonly drug: DrugClass;
  /** Earliest start across all the patient's records of this drug class; undefined when none is dated. */
  readonly start: Date | undefined;
  readonly names: string[];
}

/**
 * Current use of each drug class. A completed statement counts when it ended on or after windowStart.
 */
export function currentDrugUse(
  records: readonly MedicationRecord[],
  windowStart: Date,
): Map<DrugClass, DrugUse> {
  const uses = new Map<DrugClass, DrugUse>();
  // Classify each record once: text fallbacks are regular expressions, the hot part of this function.
  const classified = records
    .filter((record) => !NEVER_TAKEN.has(record.status))
    .map((record) => ({ record, classes: classifyConcept(medicationConcept(record)) }));
  for (const drug of DRUG_CLASSES) {
    const ofDrug = classified.filter(({ classes }) => classes.has(drug)).map(({ record }) => record);
    const counted = ofDrug.filter((record) => isCountedUse(record, windowStart));
    if (counted.length === 0) {
      continue;
    }
    const starts = ofDrug.map(recordStart).filter((date): date is Date => date !== undefined);
    uses.set(drug, {
      drug,
      start: starts.length > 0 ? new Date(Math.min(...starts.map((date) => date.getTime()))) : undefined,
      names: [...new Set(counted.map(medicationName))],
    });
  }
  return uses;
}
