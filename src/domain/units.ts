/**
 * Unit normalisation for the results the rules read. Units are compared case-insensitively and with
 * "mcg"/"µg" folded to "ug", so "ng/ml", "mcg/L" and "nmol/l" are recognised as well as UCUM codes.
 */

export type Analyte = 'vitaminD' | 'b12' | 'holoTc' | 'calcium';

/** Factor from the recognised unit to the analyte's reporting unit. */
const FACTORS: Readonly<Record<Analyte, Readonly<Record<string, number>>>> = {
  // ng/mL; nmol/L × 0.4006 (knowledge base §3)
  vitaminD: { 'ng/ml': 1, 'ug/l': 1, 'nmol/l': 0.4006 },
  // pg/mL = ng/L; pmol/L × 1.355
  b12: { 'pg/ml': 1, 'ng/l': 1, 'pmol/l': 1.355 },
  holoTc: { 'pmol/l': 1 },
  // mg/dL; mmol/L = mg/dL × 0.2495 (knowledge base §3)
  calcium: { 'mg/dl': 1, 'mmol/l': 1 / 0.2495 },
};

export const REPORTING_UNIT: Readonly<Record<Analyte, string>> = {
  vitaminD: 'ng/mL',
  b12: 'pg/mL',
  holoTc: 'pmol/L',
  calcium: 'mg/dL',
};

function foldUnit(unit: string): string {
  return unit
    .trim()
    .toLowerCase()
    .replace(/^(mcg|µg|μg)/, 'ug')
    .replace(/\s+/g, '');
}

/** The value in the analyte's reporting unit, or undefined when the unit is not recognised. */
export function normaliseValue(
  analyte: Analyte,
  value: number,
  unit: string | undefined,
): number | undefined {
  if (unit === undefined) {
    return undefined;
  }
  const factor = FACTORS[analyte][foldUnit(unit)];
  return factor === undefined ? undefined : value * factor;
}

/** Values are shown with at most one decimal, as labs report them. */
export function formatNumber(value: number): string {
  return String(Math.round(value * 10) / 10);
}
