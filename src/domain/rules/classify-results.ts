import { isAbove, isBelow, type LabResult } from '../lab-results.js';

/** The policy's bands for one 25(OH)D or B12 result. */
export type VitaminDStatus = 'deficient' | 'below-target' | 'adequate' | 'unclassified';

/** Deficient below the deficiency threshold; below target under the target; "<25" counts as below 25. */
export function classifyVitaminD(result: LabResult, deficientBelow: number, target: number): VitaminDStatus {
  const deficient = isBelow(result, deficientBelow);
  if (deficient === true) {
    return 'deficient';
  }
  const belowTarget = isBelow(result, target);
  if (belowTarget === false) {
    return 'adequate';
  }
  return belowTarget === true && deficient === false ? 'below-target' : 'unclassified';
}

export type B12Status = 'deficient' | 'indeterminate' | 'normal' | 'unclassified';

/** NICE bands: deficient below the lower threshold, indeterminate up to and including the upper one. */
export function classifyB12(
  result: LabResult,
  thresholds: {
    totalDeficientBelow: number;
    totalUpTo: number;
    holoTcDeficientBelow: number;
    holoTcUpTo: number;
  },
): B12Status {
  const [deficientBelow, upTo] =
    result.analyte === 'holoTc'
      ? [thresholds.holoTcDeficientBelow, thresholds.holoTcUpTo]
      : [thresholds.totalDeficientBelow, thresholds.totalUpTo];
  const deficient = isBelow(result, deficientBelow);
  if (deficient === true) {
    return 'deficient';
  }
  const above = isAbove(result, upTo);
  if (above === true) {
    return 'normal';
  }
  return above === false && deficient === false ? 'indeterminate' : 'unclassified';
}
