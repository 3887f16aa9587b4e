import { z } from 'zod';

/**
 * The shapes of the data in cds-hooks/: card wording (cards.json) and the orders cards suggest
 * (orders.json). Both can be replaced per site; the loader validates them against these schemas.
 */

const CodingSchema = z
  .object({ system: z.string().min(1), code: z.string().min(1), display: z.string().min(1) })
  .strict();

export const SITUATION_IDS = [
  'vd-untested',
  'vd-untested-after-surgery',
  'vd-deficient',
  'vd-insufficient',
  'vd-recheck',
  'sp-untested',
  'sp-below-target',
  'sp-deficient',
  'sp-recheck',
  'vd-low-no-dose',
  'sp-low-no-dose',
  'b12-known-deficiency',
  'b12-untested',
  'b12-untested-symptomatic',
  'b12-deficient',
  'b12-indeterminate',
  'b12-new-drug',
  'folic-acid-guard',
] as const;
export type SituationId = (typeof SITUATION_IDS)[number];

export const RULE_IDS = ['VD', 'SP', 'B12', 'B12-NEW-DRUG', 'FOLIC-ACID'] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const NOTE_IDS = [
  'cramps',
  'unknownUnit',
  'durationUnknown',
  'noFolicFirst',
  'currentVitaminD',
  'noDoseContraindication',
  'calciumNotChecked',
  'calciumUnavailable',
  'kidneyStones',
  'pregnancy',
  'folicAcidActive',
  'recordTruncated',
  'daysToSurgery',
] as const;
export type NoteId = (typeof NOTE_IDS)[number];

const SituationSchema = z
  .object({
    summary: z.string().min(1),
    /** The summary when a pregnancy took the card's medication away (change 11): no advice to treat. */
    summaryTestsOnly: z.string().min(1).optional(),
    why: z.string().min(1),
    evidence: z.array(z.string().min(1)).min(1),
  })
  .strict();

export const CardCatalogSchema = z
  .object({
    source: z.object({ topicSystem: z.string().min(1) }).strict(),
    overrideReasons: z.array(CodingSchema).min(1),
    rules: z.object(Object.fromEntries(RULE_IDS.map((id) => [id, z.object({ display: z.string().min(1) })]))),
    evidence: z.record(z.string(), z.object({ label: z.string().min(1), url: z.url() }).strict()),
    situations: z.object(Object.fromEntries(SITUATION_IDS.map((id) => [id, SituationSchema]))),
    notes: z.object(Object.fromEntries(NOTE_IDS.map((id) => [id, z.string().min(1)]))),
  })
  .strict()
  .superRefine((catalog, context) => {
    for (const [id, situation] of Object.entries(catalog.situations)) {
      for (const key of situation.evidence) {
        if (!(key in catalog.evidence)) {
          context.addIssue({
            code: 'custom',
            path: ['situations', id, 'evidence'],
            message: `unknown evidence "${key}"`,
          });
        }
      }
    }
  });

export type CardCatalog = {
  readonly source: { readonly topicSystem: string };
  readonly overrideReasons: readonly z.infer<typeof CodingSchema>[];
  readonly rules: Readonly<Record<RuleId, { readonly display: string }>>;
  readonly evidence: Readonly<Record<string, { readonly label: string; readonly url: string }>>;
  readonly situations: Readonly<Record<SituationId, z.infer<typeof SituationSchema>>>;
  readonly notes: Readonly<Record<NoteId, string>>;
};

export const LAB_KEYS = ['vitaminD', 'b12', 'mma', 'calcium'] as const;
export type LabKey = (typeof LAB_KEYS)[number];
export const MEDICATION_KEYS = [
  'ergocalciferolWeekly',
  'cholecalciferolDaily',
  'cyanocobalaminOral',
  'hydroxocobalaminIm',
  'hydroxocobalaminImNeurological',
] as const;
export type MedicationKey = (typeof MEDICATION_KEYS)[number];

const LabOrderSchema = z.object({ code: CodingSchema, text: z.string().min(1) }).strict();
const BoundsSchema = z.object({ value: z.number().positive(), unit: z.enum(['d', 'wk', 'mo']) }).strict();

/**
 * One dosage phase. Every phase is bounded (change 6): no suggested medication runs open-ended; a
 * maintenance phase carries its bound and a review note in its text.
 */
const DosagePhaseSchema = z
  .object({
    text: z.string().min(1),
    timing: z
      .object({
        frequency: z.number().int().positive(),
        period: z.number().positive(),
        periodUnit: z.enum(['h', 'd', 'wk', 'mo']),
      })
      .strict(),
    bounds: BoundsSchema,
  })
  .strict();

const MedicationOrderSchema = z
  .object({
    code: CodingSchema,
    text: z.string().min(1),
    instruction: z.string().min(1),
    dose: z
      .object({ value: z.number().positive(), unit: z.string().min(1), code: z.string().min(1) })
      .strict(),
    route: CodingSchema,
    /** In order; rendered as dosageInstruction entries with sequence 1, 2, ... */
    dosage: z.array(DosagePhaseSchema).min(1).max(4),
  })
  .strict();

export const OrderCatalogSchema = z
  .object({
    labs: z.object(Object.fromEntries(LAB_KEYS.map((key) => [key, LabOrderSchema]))).strict(),
    medications: z
      .object(Object.fromEntries(MEDICATION_KEYS.map((key) => [key, MedicationOrderSchema])))
      .strict(),
  })
  .strict();

export type LabOrder = z.infer<typeof LabOrderSchema>;
export type MedicationOrder = z.infer<typeof MedicationOrderSchema>;
export type OrderCatalog = {
  readonly labs: Readonly<Record<LabKey, LabOrder>>;
  readonly medications: Readonly<Record<MedicationKey, MedicationOrder>>;
};
