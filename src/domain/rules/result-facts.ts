import type { Condition } from '@medplum/fhirtypes';
import { conditionName, conditionOnset } from '../conditions.js';
import { formatDate } from '../fhir-time.js';
import type { LabResult } from '../lab-results.js';
import { formatConverted, formatReported, REPORTING_UNIT } from '../units.js';

/** How a result or condition is written in a card: labels, values as reported and converted, facts. */
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
  return `${comparatorPrefix(result)}${formatReported(result.reportedValue)}${unit}`;
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
  const converted = `${comparatorPrefix(result)}${formatConverted(normalised)} ${reportingUnit}`;
  return converted === reported ? reported : `${reported} (${converted})`;
}

const MAX_ALONGSIDE = 3;

export function resultFact(result: LabResult): string {
  const uninterpreted =
    result.normalisedValue === undefined
      ? result.wholeBlood
        ? ' (not interpreted: whole blood, and the thresholds are for serum)'
        : ' (not interpreted: unit not recognised)'
      : '';
  const others = result.alongside ?? [];
  // A measurement has one or two other results; a crafted record with thousands is not listed in full.
  const alongside =
    others
      .slice(0, MAX_ALONGSIDE)
      .map(
        (other) => `; measured with it: ${ANALYTE_LABEL[other.analyte].toLowerCase()} ${displayValue(other)}`,
      )
      .join('') + (others.length > MAX_ALONGSIDE ? `; and ${others.length - MAX_ALONGSIDE} more` : '');
  return `${ANALYTE_LABEL[result.analyte]}: ${displayValue(result)} on ${result.date}${uninterpreted}${alongside}`;
}

export function conditionFact(condition: Condition): string {
  const onset = conditionOnset(condition);
  return `${conditionName(condition)}${onset ? ` (since ${formatDate(onset)})` : ''}`;
}
