import type { Condition } from '@medplum/fhirtypes';
import type { LabTiming, SuggestedOrder } from '../findings.js';
import { conditionName, conditionOnset } from '../conditions.js';
import { formatDate } from '../fhir-time.js';
import { isAbove, isBelow, type LabResult } from '../lab-results.js';
import { formatNumber, REPORTING_UNIT } from '../units.js';

export const ANALYTE_LABEL = {
  vitaminD: '25-hydroxyvitamin D',
  b12: 'Vitamin B12',
  holoTc: 'Active B12 (holotranscobalamin)',
  calcium: 'Serum calcium',
} as const;

function comparatorPrefix(result: LabResult): string {
  return result.comparator ?? '';
}

/** The value as reported, e.g. "19 nmol/L" or "<5 ng/mL". */
export function reportedValue(result: LabResult): string {
  const unit = result.reportedUnit ? ` ${result.reportedUnit}` : '';
  return `${comparatorPrefix(result)}${formatNumber(result.reportedValue)}${unit}`;
}

/**
 * The value for a card (change 12): in the unit the lab reported, converted in brackets where that unit is
 * not the threshold's: "62 nmol/L (24.8 ng/mL)". An active B12 result is called active B12.
 */
export function summaryValue(result: LabResult): string {
  return `${result.analyte === 'holoTc' ? 'active B12 ' : ''}${displayValue(result)}`;
}

/** The value converted where the lab reported another unit: "19 nmol/L (7.6 ng/mL)". */
export function displayValue(result: LabResult): string {
  const reported = reportedValue(result);
  const normalised = result.normalisedValue;
  const reportingUnit = REPORTING_UNIT[result.analyte];
  if (normalised === undefined || result.reportedUnit?.toLowerCase() === reportingUnit.toLowerCase()) {
    return reported;
  }
  const converted = `${comparatorPrefix(result)}${formatNumber(normalised)} ${reportingUnit}`;
  return converted === reported ? reported : `${reported} (${converted})`;
}

export function resultFact(result: LabResult): string {
  const uninterpreted = result.normalisedValue === undefined ? ' (not interpreted: unit not recognised)' : '';
  const alongside = (result.alongside ?? [])
    .map(
      (other) => `; measured with it: ${ANALYTE_LABEL[other.analyte].toLowerCase()} ${displayValue(other)}`,
    )
    .join('');
  return `${ANALYTE_LABEL[result.analyte]}: ${displayValue(result)} on ${formatDate(result.time)}${uninterpreted}${alongside}`;
}

export function conditionFact(condition: Condition): string {
  const onset = conditionOnset(condition);
  return `${conditionName(condition)}${onset ? ` (since ${formatDate(onset)})` : ''}`;
}

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

/** "a and b", "a, b and c". */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) {
    return words[0] ?? '';
  }
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1] ?? ''}`;
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Names from the EHR (procedures, products) can be long; summaries must stay under 140 characters.
 * Cuts at a word boundary.
 */
export function shortLabel(name: string, max = 40): string {
  if (name.length <= max) {
    return name;
  }
  const cut = name.slice(0, max);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > max / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}

/**
 * Vitamin D repletion as in rule VD: ergocalciferol 50,000 IU weekly, or (when not deficient) cholecalciferol
 * 2,000 IU daily, and a recheck of 25(OH)D.
 */
export function repletionSuggestions(options: {
  readonly deficient: boolean;
  readonly recommendErgocalciferol: boolean;
  readonly recheck: LabTiming;
}): SuggestedOrder[] {
  return [
    { kind: 'medication', medication: 'ergocalciferolWeekly', recommended: options.recommendErgocalciferol },
    ...(options.deficient
      ? []
      : [{ kind: 'medication' as const, medication: 'cholecalciferolDaily' as const, recommended: false }]),
    { kind: 'lab', lab: 'vitaminD', recommended: true, timing: options.recheck },
  ];
}
