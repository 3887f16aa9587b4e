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

/** A value as the lab reported it (change 12): every digit it sent, nothing rounded onto a threshold. */
export function formatReported(value: number): string {
  return String(value);
}

/**
 * A converted value to one decimal, with more where rounding would carry it onto or across a whole number
 * (thresholds are whole numbers): 74.8 nmol/L is 29.96 ng/mL and shows as 29.96, not 30 beside "below 30
 * ng/mL"; 258.31 pmol/L is 350.01 pg/mL, not 350 beside "indeterminate 180 to 350". A whole number is shown
 * only for a value that is exactly that number.
 */
export function formatConverted(value: number): string {
  for (let decimals = 1; decimals <= 4; decimals++) {
    const scale = 10 ** decimals;
    const rounded = Math.round(value * scale) / scale;
    if (Math.floor(rounded) === Math.floor(value) && !(Number.isInteger(rounded) && rounded !== value)) {
      return String(rounded);
    }
  }
  // Closer to a whole number than four decimals can show: every digit, so the side is still right.
  return String(value);
}
