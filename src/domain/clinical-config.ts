import { z } from 'zod';

const positive = z.number().positive();

/**
 * Every window and threshold of the clinical policy. The defaults are the policy's; a deployment may
 * override any of them (validated at start-up).
 */
export const ClinicalConfigSchema = z
  .object({
    chronicPainMinWeeks: positive.default(12),
    vitaminD: z
      .object({
        untestedWindowMonths: positive.default(12),
        deficientBelowNgMl: positive.default(20),
        targetNgMl: positive.default(30),
        recheckAfterWeeks: positive.default(12),
      })
      .strict()
      .default({ untestedWindowMonths: 12, deficientBelowNgMl: 20, targetNgMl: 30, recheckAfterWeeks: 12 }),
    spine: z
      .object({
        preopWindowDays: positive.default(90),
        recentSurgeryMonths: positive.default(12),
        targetNgMl: positive.default(30),
        deficientBelowNgMl: positive.default(20),
      })
      .strict()
      .default({ preopWindowDays: 90, recentSurgeryMonths: 12, targetNgMl: 30, deficientBelowNgMl: 20 }),
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
      .default({
        exposureMinMonths: 12,
        untestedWindowMonths: 36,
        deficientBelowPgMl: 180,
        indeterminateUpToPgMl: 350,
        holoTcDeficientBelowPmolL: 25,
        holoTcIndeterminateUpToPmolL: 70,
      }),
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
  });

export type ClinicalConfig = z.infer<typeof ClinicalConfigSchema>;

export const DEFAULT_CLINICAL_CONFIG: ClinicalConfig = ClinicalConfigSchema.parse({});
