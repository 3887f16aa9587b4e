import type { Observation } from '@medplum/fhirtypes';
import { parseFhirDate } from './fhir-time.js';
import { type Analyte, normaliseValue } from './units.js';
import {
  B12_BLOOD_LOINC,
  B12_TOTAL_LOINC,
  HOLO_TC_LOINC,
  SYSTEM,
  VITAMIN_D_LOINC,
  VITAMIN_D_RESULT_CODES,
} from './value-sets.js';

const COUNTED_STATUSES: ReadonlySet<string> = new Set(['final', 'amended', 'corrected', 'preliminary']);

export type Comparator = '<' | '<=' | '>=' | '>';

/** One counted lab result, as the rules see it. */
export interface LabResult {
  readonly observationId: string | undefined;
  readonly analyte: Analyte;
  readonly time: Date;
  /** As reported, for the card. */
  readonly reportedValue: number;
  readonly reportedUnit: string | undefined;
  readonly comparator: Comparator | undefined;
  /** In the analyte's reporting unit; undefined when the unit is not recognised or the code is never classified. */
  readonly normalisedValue: number | undefined;
}

const COMPARATORS: ReadonlySet<string> = new Set(['<', '<=', '>=', '>']);

/** "ad" (sufficient to achieve this total) and anything unknown are read as no comparator. */
function asComparator(value: string | undefined): Comparator | undefined {
  return value !== undefined && COMPARATORS.has(value) ? (value as Comparator) : undefined;
}

interface RawValue {
  readonly value: number;
  readonly unit: string | undefined;
  readonly comparator: Comparator | undefined;
}

function readValue(observation: Observation): RawValue | undefined {
  const quantity = observation.valueQuantity;
  if (quantity?.value !== undefined && Number.isFinite(quantity.value)) {
    return {
      value: quantity.value,
      unit: quantity.code ?? quantity.unit,
      comparator: asComparator(quantity.comparator),
    };
  }
  // Some labs send "<5 ng/mL" or "23" as a string.
  const text = observation.valueString;
  const match = text ? /^\s*(<=|>=|<|>)?\s*(\d+(?:\.\d+)?)\s*([^\d\s].*)?$/.exec(text) : null;
  if (!match?.[2]) {
    return undefined;
  }
  return { value: Number(match[2]), unit: match[3]?.trim(), comparator: asComparator(match[1]) };
}

function resultTime(observation: Observation): Date | undefined {
  return (
    parseFhirDate(observation.effectiveDateTime) ??
    parseFhirDate(observation.effectivePeriod?.start) ??
    parseFhirDate(observation.issued)
  );
}

/** The observation's first LOINC code in a set, scanning the codings without building arrays (hot path). */
function loincCodeIn(observation: Observation, codes: ReadonlySet<string>): string | undefined {
  for (const coding of observation.code.coding ?? []) {
    if (coding.system === SYSTEM.loinc && coding.code !== undefined && codes.has(coding.code)) {
      return coding.code;
    }
  }
  return undefined;
}

function toResult(observation: Observation, analyte: Analyte, classify: boolean): LabResult | undefined {
  if (!COUNTED_STATUSES.has(observation.status)) {
    return undefined;
  }
  const time = resultTime(observation);
  const raw = readValue(observation);
  if (!time || !raw) {
    return undefined;
  }
  return {
    observationId: observation.id,
    analyte,
    time,
    reportedValue: raw.value,
    reportedUnit: raw.unit,
    comparator: raw.comparator,
    normalisedValue: classify ? normaliseValue(analyte, raw.value, raw.unit) : undefined,
  };
}

/**
 * Counted 25(OH)D results, newest first. A D2 and a D3 fraction taken at the same time with no total beside
 * them are added up into one total, as the knowledge base asks.
 */
export function vitaminDResults(observations: readonly Observation[]): LabResult[] {
  const results: LabResult[] = [];
  const fractions = new Map<number, { d2?: LabResult; d3?: LabResult; hasTotal: boolean }>();
  for (const observation of observations) {
    const code = loincCodeIn(observation, VITAMIN_D_RESULT_CODES);
    if (code === undefined) {
      continue;
    }
    const result = toResult(observation, 'vitaminD', true);
    if (!result) {
      continue;
    }
    results.push(result);
    const slot = fractions.get(result.time.getTime()) ?? { hasTotal: false };
    if (code === VITAMIN_D_LOINC.d2Fraction) {
      slot.d2 = result;
    } else if (code === VITAMIN_D_LOINC.d3Fraction) {
      slot.d3 = result;
    } else {
      slot.hasTotal = true;
    }
    fractions.set(result.time.getTime(), slot);
  }
  for (const { d2, d3, hasTotal } of fractions.values()) {
    if (hasTotal || !d2 || !d3 || d2.normalisedValue === undefined || d3.normalisedValue === undefined) {
      continue;
    }
    const total: LabResult = {
      ...d3,
      observationId: d3.observationId,
      reportedValue: d2.normalisedValue + d3.normalisedValue,
      reportedUnit: 'ng/mL',
      comparator: undefined,
      normalisedValue: d2.normalisedValue + d3.normalisedValue,
    };
    results.splice(results.indexOf(d2), 1);
    results.splice(results.indexOf(d3), 1, total);
  }
  return newestFirst(results);
}

/** Counted B12 results (total B12 and holotranscobalamin), newest first. */
export function b12Results(observations: readonly Observation[]): LabResult[] {
  const results: LabResult[] = [];
  for (const observation of observations) {
    let result: LabResult | undefined;
    if (loincCodeIn(observation, B12_TOTAL_LOINC)) {
      result = toResult(observation, 'b12', true);
    } else if (loincCodeIn(observation, HOLO_TC_LOINC)) {
      result = toResult(observation, 'holoTc', true);
    } else if (loincCodeIn(observation, B12_BLOOD_LOINC)) {
      result = toResult(observation, 'b12', false);
    }
    if (result) {
      results.push(result);
    }
  }
  return newestFirst(results);
}

function newestFirst(results: LabResult[]): LabResult[] {
  return results.sort((a, b) => b.time.getTime() - a.time.getTime());
}

/**
 * Whether a result is below a threshold. "<5" counts as below 5, so it is below any threshold of 5 or more.
 * A ">" value is below a threshold only if we cannot tell, which we treat as not below.
 */
export function isBelow(result: LabResult, threshold: number): boolean | undefined {
  const value = result.normalisedValue;
  if (value === undefined) {
    return undefined;
  }
  switch (result.comparator) {
    case '<':
      return value <= threshold;
    case '>':
    case '>=':
      return value >= threshold ? false : undefined;
    case '<=':
    case undefined:
      return value < threshold;
  }
}

/** Whether a result is above a threshold, with the same reading of comparators. */
export function isAbove(result: LabResult, threshold: number): boolean | undefined {
  const value = result.normalisedValue;
  if (value === undefined) {
    return undefined;
  }
  switch (result.comparator) {
    case '>':
      return value >= threshold;
    case '<':
    case '<=':
      return value <= threshold ? false : undefined;
    case '>=':
    case undefined:
      return value > threshold;
  }
}
