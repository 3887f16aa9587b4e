import type {
  CodeableConcept,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Resource,
} from '@medplum/fhirtypes';
import { codesOf, conceptLabel, conceptText } from './codings.js';
import { addDays, parseFhirDate } from './fhir-time.js';
import {
  DRUG_RXNORM,
  DRUG_TEXT,
  type DrugClass,
  NOT_VITAMIN_D_THERAPY,
  SYSTEM,
  VITAMIN_D_PRODUCTS,
} from './value-sets.js';

const DRUG_CLASSES = Object.keys(DRUG_RXNORM) as DrugClass[];

/**
 * Product names are short; a longer text is read only this far, so matching stays cheap whatever a client
 * sends. Matching is a few linear regular expressions over at most this many characters (about a
 * microsecond), so no cache is kept: a cache keyed by outside text would need bounds of its own.
 */
export const MAX_NAME_LENGTH = 256;

/**
 * A multivitamin carries a little vitamin D, B12 and folic acid (micrograms of B12 against the 1 mg of
 * replacement), so it is not vitamin D therapy, B12 replacement or a folic acid product: counting it would
 * silence the B12 and vitamin D cards. Known by its name, or by a label that lists four or more ingredients
 * as RxNorm names multi-ingredient products ("ascorbic acid 60 MG / biotin 0.03 MG / … / vitamin B12 0.006
 * MG"); `text` and each display are separate labels of one product.
 */
const MULTIVITAMIN =
  /multi-?vit|multiple vitamins?|\bprenatal\b(?!\s*\)\s*$)|\b(?:vitamin\s)?b[\s-]?complex\b/i;
const SUPPLEMENTS: ReadonlySet<DrugClass> = new Set(['vitaminD', 'b12Replacement', 'folicAcid']);

/**
 * A part of a label that names an ingredient with its strength ("biotin 0.03 MG"), not a sig ("weekly"). The
 * lookahead captures the first name-like word and the backreference consumes it without backtracking into
 * it (an atomic group), so a long hostile part is read in linear time.
 */
const INGREDIENT_WITH_STRENGTH =
  /^(?=(.*?(?:[a-z]{3}|\b[a-z]-?\d{1,2}\b)))\1.*\d\s*(?:mg|mcg|µg|μg|ug|iu|unt|units?)\b/i;
/** A part that starts with the name of a vitamin or mineral, strength or none. */
const NAMED_INGREDIENT =
  /^\s*(?:folic|l-?methylfol|folate|pyridox|(?:vit(?:amin)?\.?\s*)?b-?\d{1,2}\b|vitamin|\w*cobalamin|thiamin|riboflavin|niacin|biotin|iron|ferrous|zinc|calcium)/i;

/** The slash-separated parts of a label, as RxNorm writes multi-ingredient products ("A 1 MG / B 2 MG"). */
function labelParts(label: string): string[] {
  return label.replace(/\s+/g, ' ').split(' / ');
}

function ingredientsWithStrength(label: string): number {
  return labelParts(label).filter((part) => INGREDIENT_WITH_STRENGTH.test(part)).length;
}
/** Parts of a label that name an ingredient, with a strength or by a name ("B12 500 mcg / folate"). */
function namesIngredients(label: string): number {
  return labelParts(label).reduce((count, part) => {
    // After ", " or " and " only a named vitamin or mineral is a second ingredient, not a sig or a plan.
    const [head = '', ...joined] = part.split(/, | and /i);
    const first = INGREDIENT_WITH_STRENGTH.test(head) || NAMED_INGREDIENT.test(head) ? 1 : 0;
    return count + first + joined.filter((rest) => NAMED_INGREDIENT.test(rest)).length;
  }, 0);
}

export function isMultivitamin(name: string): boolean {
  return name.split(' | ').some((label) => MULTIVITAMIN.test(label) || ingredientsWithStrength(label) >= 4);
}

/**
 * B12 at 1 mg or more (the knowledge base's oral replacement dose), or folic acid at 2 mg or more (renal
 * vitamins), is a treatment dose in a multivitamin; below that it is not. B12 below 1 mg in any combination
 * (folic acid 0.8 MG / pyridoxine 10 MG / vitamin B12 0.115 MG) is not replacement either. Folic acid in a
 * combination that is not a multivitamin (iron and folic acid 1 mg) is folic acid, and a product of B12 or
 * folic acid alone counts at any strength.
 */
const TREATMENT_STRENGTH: Readonly<Partial<Record<DrugClass, { pattern: RegExp; minimumMg: number }>>> = {
  b12Replacement: {
    pattern: /(?:cobalamin|\bb[\s-]?12)\s+(\d{1,3}(?:,\d{3})+|\d{1,6}(?:\.\d{1,6})?)\s*(mg|mcg|µg|μg|ug)\b/i,
    minimumMg: 1,
  },
  folicAcid: {
    pattern:
      /(?:folic acid|folate|methylfolate)\s+(\d{1,3}(?:,\d{3})+|\d{1,6}(?:\.\d{1,6})?)\s*(mg|mcg|µg|μg|ug)\b/i,
    minimumMg: 2,
  },
};

/** The strength written for the drug's ingredient, in mg, when the name gives one. */
function writtenStrengthMg(drug: DrugClass, name: string): number | undefined {
  const match = TREATMENT_STRENGTH[drug]?.pattern.exec(name);
  if (!match?.[1]) {
    return undefined;
  }
  return Number(match[1].replaceAll(',', '')) / (match[2]?.toLowerCase() === 'mg' ? 1 : 1000);
}

/** A second ingredient joined by "+" or "with", not a sig ("with food", "with evening meal"). */
const JOINED_INGREDIENT =
  /\s\+\s|\bwith\s(?!\s*(?:food|meals?|breakfast|lunch|dinner|supper|water|milk|juice|evening|morning|night|bedtime)\b)/i;

/**
 * A product of several ingredients: two or more parts with a strength of their own ("A 1 MG / B 2 MG"; a unit
 * "1 MG / ML", a sig "500 mcg / daily" or a plan is not one), or one joined by "+" or "with".
 */
function isCombination(name: string): boolean {
  return JOINED_INGREDIENT.test(name) || name.split(' | ').some((label) => namesIngredients(label) >= 2);
}

/** Whether a supplement the name matched is that supplement at a dose that counts (see above). */
function countsAsSupplement(drug: DrugClass, name: string): boolean {
  if (drug === 'vitaminD' && NOT_VITAMIN_D_THERAPY.test(name)) {
    return false;
  }
  const multivitamin = isMultivitamin(name);
  const strength = writtenStrengthMg(drug, name);
  const thresholdApplies = multivitamin || (drug === 'b12Replacement' && isCombination(name));
  if (strength !== undefined && thresholdApplies) {
    return strength >= (TREATMENT_STRENGTH[drug]?.minimumMg ?? 0);
  }
  return !multivitamin;
}

/** The drug classes a name belongs to, by ingredient or brand (combination products included). */
export function classifyText(text: string): ReadonlySet<DrugClass> {
  const name = text.slice(0, MAX_NAME_LENGTH);
  return new Set(
    DRUG_CLASSES.filter(
      (drug) => DRUG_TEXT[drug].test(name) && (!SUPPLEMENTS.has(drug) || countsAsSupplement(drug, name)),
    ),
  );
}

/** Every RxNorm code the value sets know, with the classes it belongs to (one lookup per coding). */
const CLASSES_BY_RXNORM = new Map<string, DrugClass[]>();
for (const drug of DRUG_CLASSES) {
  for (const code of DRUG_RXNORM[drug]) {
    CLASSES_BY_RXNORM.set(code, [...(CLASSES_BY_RXNORM.get(code) ?? []), drug]);
  }
}

/**
 * The drug classes a medication concept belongs to: by RxNorm code first and, only when no coding matches,
 * by ingredient or brand name in its text (which also catches combination products).
 */
export function classifyConcept(concept: CodeableConcept | undefined): ReadonlySet<DrugClass> {
  let byCode: Set<DrugClass> | undefined;
  for (const coding of concept?.coding ?? []) {
    const classes =
      coding.system === SYSTEM.rxnorm && coding.code ? CLASSES_BY_RXNORM.get(coding.code) : undefined;
    for (const drug of classes ?? []) {
      (byCode ??= new Set()).add(drug);
    }
  }
  return byCode ?? classifyText(conceptText(concept));
}

export type MedicationRecord = MedicationRequest | MedicationStatement;

function isMedication(resource: Resource | undefined, id: string): resource is Medication {
  return resource?.resourceType === 'Medication' && resource.id === id;
}

/** "Medication/abc" or ".../Medication/abc" (an absolute reference): the id, else undefined. */
function referencedMedicationId(reference: string): string | undefined {
  const index = reference.lastIndexOf('Medication/');
  if (index < 0 || (index > 0 && reference[index - 1] !== '/')) {
    return undefined;
  }
  const id = reference.slice(index + 'Medication/'.length).split('/')[0];
  return id && id.length > 0 ? id : undefined;
}

/**
 * The medication concept of a request or statement: its CodeableConcept, else the Medication it references
 * (contained `#id`, or `Medication/{id}` among the record's Medications), else the reference's display.
 */
export function medicationConcept(
  record: MedicationRecord | Resource,
  medications: readonly Medication[] = [],
): CodeableConcept | undefined {
  if (record.resourceType !== 'MedicationRequest' && record.resourceType !== 'MedicationStatement') {
    return undefined;
  }
  if (record.medicationCodeableConcept) {
    return record.medicationCodeableConcept;
  }
  const reference = record.medicationReference;
  const target = reference?.reference;
  if (typeof target === 'string') {
    let medication: Medication | undefined;
    if (target.startsWith('#')) {
      const id = target.slice(1);
      medication = (record.contained ?? []).find((resource): resource is Medication =>
        isMedication(resource, id),
      );
    } else {
      const id = referencedMedicationId(target);
      medication = id === undefined ? undefined : medications.find((resource) => isMedication(resource, id));
    }
    if (medication?.code) {
      // The reference's display may name the product when the Medication's code has no text.
      return reference?.display && !conceptLabel(medication.code)
        ? { ...medication.code, text: reference.display }
        : medication.code;
    }
  }
  return reference?.display ? { text: reference.display } : undefined;
}

export function medicationName(record: MedicationRecord, medications: readonly Medication[] = []): string {
  return conceptLabel(medicationConcept(record, medications)) ?? 'medication';
}

const NEVER_TAKEN: ReadonlySet<string> = new Set(['entered-in-error', 'cancelled', 'not-taken']);

/** Whether a record may be counted as use at all: one entered in error, cancelled or not taken never is. */
export function mayBeUse(record: MedicationRecord): boolean {
  return !NEVER_TAKEN.has(record.status);
}

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

/** Whether a record says the drug is taken now: a request active or on hold, a statement also intended. */
export function isOngoing(record: MedicationRecord): boolean {
  return record.resourceType === 'MedicationRequest'
    ? record.status === 'active' || record.status === 'on-hold'
    : record.status === 'active' || record.status === 'intended' || record.status === 'on-hold';
}

/** When a record's use ended: now while it is ongoing, else its recorded end, else its start. */
function recordEnd(record: MedicationRecord, start: Date | undefined, now: Date): Date | undefined {
  if (isOngoing(record)) {
    return now;
  }
  const end =
    record.resourceType === 'MedicationStatement'
      ? parseFhirDate(record.effectivePeriod?.end)
      : parseFhirDate(record.dispenseRequest?.validityPeriod?.end);
  return end ?? start;
}

/**
 * Counted use: a statement active, intended or on hold (or completed with an end inside the window), or a
 * request active or on hold.
 */
function isCountedUse(record: MedicationRecord, windowStart: Date): boolean {
  if (isOngoing(record)) {
    return true;
  }
  const end = parseFhirDate(
    record.resourceType === 'MedicationStatement' ? record.effectivePeriod?.end : undefined,
  );
  return record.status === 'completed' && end !== undefined && end >= windowStart;
}

export interface DrugUse {
  readonly drug: DrugClass;
  /** Start of the current course (change 2); undefined when none of its counted records is dated. */
  readonly start: Date | undefined;
  /**
   * Whether the drug is taken now (a record active, intended or on hold), not only within the window: a
   * B12 course that ended last month is counted use, but not "B12 replacement active".
   */
  readonly ongoing: boolean;
  /** When the drug was last taken, as far as the record says: now while ongoing, else the latest recorded end. */
  readonly lastTaken: Date | undefined;
  /** The products in use, by name (those taken now when the drug is ongoing). */
  readonly names: string[];
  /**
   * Vitamin D only: when each repletion-strength record began (whatever its status now), earliest first.
   * Repletion added to a maintenance course that was running starts later than the course; renewing the
   * maintenance dose, under whatever name, adds none.
   */
  readonly repletionStarts: readonly Date[];
}

interface Span {
  readonly start: Date;
  readonly end: Date;
  readonly counted: boolean;
}

/**
 * Change 2: records whose periods overlap or lie at most `gapDays` apart form one course. The current
 * course is the last one that holds a counted record; its start is the exposure or therapy start.
 */
function currentCourseStart(spans: Span[], gapDays: number): Date | undefined {
  spans.sort((a, b) => a.start.getTime() - b.start.getTime());
  let courseStart: Date | undefined;
  let courseEnd: Date | undefined;
  let current: Date | undefined;
  for (const span of spans) {
    if (courseEnd === undefined || span.start > addDays(courseEnd, gapDays)) {
      courseStart = span.start;
      courseEnd = span.end;
    } else if (span.end > courseEnd) {
      courseEnd = span.end;
    }
    if (span.counted) {
      current = courseStart;
    }
  }
  return current;
}

/**
 * A product at vitamin D repletion strength (50,000 IU however written; VITAMIN_D_PRODUCTS.repletion). Asked
 * only of a vitamin D product: the strength alone does not make one ("vitamin A 50,000 IU").
 */
export function isAtRepletionStrength(concept: CodeableConcept | undefined): boolean {
  const { rxnorm, name } = VITAMIN_D_PRODUCTS.repletion;
  return (
    codesOf([concept], SYSTEM.rxnorm).some((code) => rxnorm.includes(code)) ||
    name.test(conceptText(concept).slice(0, MAX_NAME_LENGTH))
  );
}

export interface DrugUseOptions {
  /** A completed statement counts when it ended on or after this. */
  readonly windowStart: Date;
  readonly now: Date;
  readonly courseGapDays: number;
  readonly medications?: readonly Medication[] | undefined;
}

/** Current use of each drug class, with the start of its current course. */
export function currentDrugUse(
  records: readonly MedicationRecord[],
  options: DrugUseOptions,
): Map<DrugClass, DrugUse> {
  const { windowStart, now, courseGapDays, medications = [] } = options;
  // A record whose known start is still to come is a plan, not use: it neither counts nor starts a course.
  // A day's grace: a date-only start of "today" east of UTC is already tomorrow in UTC.
  const startGraceEnd = addDays(now, 1);
  const uses = new Map<DrugClass, DrugUse>();
  // Classify and date each record once.
  const begun: { record: MedicationRecord; classes: ReadonlySet<DrugClass>; start: Date | undefined }[] = [];
  for (const record of records) {
    const classes = mayBeUse(record) ? classifyConcept(medicationConcept(record, medications)) : undefined;
    if (classes === undefined || classes.size === 0) {
      continue;
    }
    const start = recordStart(record);
    if (start === undefined || start <= startGraceEnd) {
      begun.push({ record, classes, start });
    }
  }
  for (const drug of DRUG_CLASSES) {
    const ofDrug = begun
      .filter(({ classes }) => classes.has(drug))
      .map((entry) => ({
        ...entry,
        end: recordEnd(entry.record, entry.start, now),
        counted: isCountedUse(entry.record, windowStart),
      }));
    const counted = ofDrug.filter((entry) => entry.counted);
    if (counted.length === 0) {
      continue;
    }
    const spans: Span[] = [];
    for (const { start, end, counted: isCounted } of ofDrug) {
      if (start !== undefined && end !== undefined) {
        spans.push({ start, end: end < start ? start : end, counted: isCounted });
      }
    }
    const taking = counted.filter((entry) => isOngoing(entry.record));
    let lastTaken = -Infinity;
    for (const entry of counted) {
      lastTaken = Math.max(lastTaken, entry.end?.getTime() ?? -Infinity);
    }
    const repletionStarts =
      drug === 'vitaminD'
        ? ofDrug
            // Taken now or taken to its end: an unsigned draft, or an order stopped early, answered nothing.
            .filter(
              ({ record }) =>
                (isOngoing(record) || record.status === 'completed') &&
                isAtRepletionStrength(medicationConcept(record, medications)),
            )
            .flatMap(({ start }) => (start === undefined ? [] : [start]))
            .sort((a, b) => a.getTime() - b.getTime())
        : [];
    uses.set(drug, {
      drug,
      start: currentCourseStart(spans, courseGapDays),
      repletionStarts,
      ongoing: taking.length > 0,
      lastTaken: Number.isFinite(lastTaken) ? new Date(Math.min(lastTaken, now.getTime())) : undefined,
      names: [
        ...new Set(
          (taking.length > 0 ? taking : counted).map((entry) => medicationName(entry.record, medications)),
        ),
      ],
    });
  }
  return uses;
}
