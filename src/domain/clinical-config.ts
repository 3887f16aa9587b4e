import { z } from 'zod';

const positive = z.number().positive();
const wholePositive = z.number().int().positive();

/**
 * Every window and threshold of the clinical policy (version 2). The defaults are the policy's; a deployment
 * may override any of them (validated at start-up).
 */
export const ClinicalConfigSchema = z
  .object({
    chronicPainMinWeeks: positive.default(12),
    /** Change 11: no card for a patient younger than this at the time of the request. */
    minimumAgeYears: wholePositive.default(18),
    vitaminD: z
      .object({
        untestedWindowMonths: positive.default(12),
        deficientBelowNgMl: positive.default(20),
        targetNgMl: positive.default(30),
        recheckAfterWeeks: positive.default(12),
        /** Change 9: the untested card stays quiet this long after a result at or above target. */
        adequateQuietMonths: positive.default(24),
      })
      .strict()
      .prefault({}),
    spine: z
      .object({
        preopWindowDays: positive.default(90),
        recentSurgeryMonths: positive.default(12),
        targetNgMl: positive.default(30),
        deficientBelowNgMl: positive.default(20),
        /** Change 10: a planned operation dated further in the past than this is not planned. */
        plannedPastGraceDays: positive.default(7),
        /** Change 10: a recheck is dated this many days before a known operation date. */
        recheckDaysBeforeSurgery: positive.default(7),
        /** Change 10: an adequate result older than the pre-op window but this recent gives info, not warning. */
        adequateRecheckMonths: positive.default(12),
      })
      .strict()
      .prefault({}),
    b12: z
      .object({
        exposureMinMonths: positive.default(12),
        untestedWindowMonths: positive.default(36),
        deficientBelowPgMl: positive.default(180),
        indeterminateUpToPgMl: positive.default(350),
        holoTcDeficientBelowPmolL: positive.default(25),
        holoTcIndeterminateUpToPmolL: positive.default(70),
      })
      .strict()
      .prefault({}),
    /** Change 4: when high-dose vitamin D is never suggested. */
    safety: z
      .object({
        calciumUpperMgDl: positive.default(10.5),
        calciumWindowMonths: positive.default(12),
        /** A serum calcium test is offered unless one was drawn within this many days. */
        calciumTestWithinDays: positive.default(30),
      })
      .strict()
      .prefault({}),
    /** Change 2: records of one drug class at most this many days apart form one course. */
    medications: z
      .object({ courseGapDays: z.number().int().min(0).default(90) })
      .strict()
      .prefault({}),
    /** Change 11: a pregnancy Condition counts while active and its onset is within this many weeks. */
    pregnancy: z
      .object({ onsetWithinWeeks: positive.default(42) })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((config) => config.vitaminD.deficientBelowNgMl < config.vitaminD.targetNgMl, {
    message: 'vitaminD.deficientBelowNgMl must be below vitaminD.targetNgMl',
  })
  .refine((config) => config.spine.deficientBelowNgMl < config.spine.targetNgMl, {
    message: 'spine.deficientBelowNgMl must be below spine.targetNgMl',
  })
  .refine((config) => config.b12.deficientBelowPgMl < config.b12.indeterminateUpToPgMl, {
    message: 'b12.deficientBelowPgMl must be below b12.indeterminateUpToPgMl',
  })
  .refine((config) => config.b12.holoTcDeficientBelowPmolL < config.b12.holoTcIndeterminateUpToPmolL, {
    message: 'b12.holoTcDeficientBelowPmolL must be below b12.holoTcIndeterminateUpToPmolL',
  })
  .refine((config) => config.vitaminD.adequateQuietMonths >= config.vitaminD.untestedWindowMonths, {
    message: 'vitaminD.adequateQuietMonths must be at least vitaminD.untestedWindowMonths',
  });

export type ClinicalConfig = z.infer<typeof ClinicalConfigSchema>;

export const DEFAULT_CLINICAL_CONFIG: ClinicalConfig = ClinicalConfigSchema.parse({});
