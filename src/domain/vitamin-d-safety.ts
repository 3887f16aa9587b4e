import type { ClinicalConfig } from './clinical-config.js';
import { conditionName, countedInGroup } from './conditions.js';
import { addDays, addMonths } from './fhir-time.js';
import type { NoteRef } from './findings.js';
import { calciumResults, isAbove, type LabResult } from './lab-results.js';
import type { PatientRecord } from './patient-record.js';
import { formatReported } from './units.js';
import type { ConditionGroup } from './value-sets.js';

/** The prefetch key that brings serum calcium (cds-hooks/services.json). */
export const CALCIUM_PREFETCH_KEY = 'calcium';

const CONTRAINDICATIONS: readonly [ConditionGroup, string][] = [
  ['hypercalcaemia', 'hypercalcaemia'],
  ['sarcoidosis', 'sarcoidosis'],
  ['primaryHyperparathyroidism', 'primary hyperparathyroidism'],
  ['severeKidneyDisease', 'CKD stage 4-5 or dialysis'],
];

/** Change 4: what stands against high-dose vitamin D, and what the card says about calcium. */
export interface VitaminDSafety {
  /** Short reasons no dose may be suggested (for the summary); empty when repletion is safe to offer. */
  readonly reasons: readonly string[];
  /** Detail lines: the contraindicating conditions and calcium results, each with its date. */
  readonly facts: readonly string[];
  /** Offer a serum calcium test: no dose is suggested and no calcium was drawn recently. */
  readonly offerCalciumTest: boolean;
  readonly notes: readonly NoteRef[];
}

const ALBUMIN_FACTOR = 0.2495;

/**
 * Above the upper limit in the unit the lab reported. A molar result is compared with the limit rounded as
 * labs report it (10.5 mg/dL is 2.62 mmol/L), so 2.62 mmol/L is at the limit, not above it.
 */
function isAboveLimit(result: LabResult, upperMgDl: number): boolean {
  if (isMolar(result)) {
    return isAbove({ ...result, normalisedValue: result.reportedValue }, molarLimit(upperMgDl)) === true;
  }
  return isAbove(result, upperMgDl) === true;
}

function isMolar(result: LabResult): boolean {
  return result.reportedUnit?.trim().toLowerCase() === 'mmol/l';
}

/** The calcium limit as labs write it in mmol/L (10.5 mg/dL is 2.62 mmol/L). */
function molarLimit(upperMgDl: number): number {
  return Math.round(upperMgDl * ALBUMIN_FACTOR * 100) / 100;
}

/**
 * Calcium is shown as reported. No conversion beside it: a molar result is judged against the molar limit, so
 * a mg/dL figure could only disagree with the verdict (2.6202 mmol/L is above 2.62, yet 10.5 mg/dL rounded).
 */
function calciumFact(result: LabResult): string {
  return `Serum calcium: ${result.comparator ?? ''}${formatReported(result.reportedValue)} ${result.reportedUnit ?? ''} on ${result.date}`;
}

export function vitaminDSafety(record: PatientRecord, now: Date, config: ClinicalConfig): VitaminDSafety {
  const settings = config.safety;
  const reasons: string[] = [];
  const facts: string[] = [];
  for (const [group, reason] of CONTRAINDICATIONS) {
    const condition = countedInGroup(record.conditions, group)[0];
    if (condition) {
      reasons.push(reason);
      facts.push(`Contraindication to high-dose vitamin D: ${conditionName(condition)}`);
    }
  }
  const calciumUnavailable = record.unavailableKeys?.has(CALCIUM_PREFETCH_KEY) === true;
  const calcium = calciumResults(record.observations, now, record.diagnosticReports).filter(
    (result) => result.time >= addMonths(now, -settings.calciumWindowMonths),
  );
  const high = calcium.find((result) => isAboveLimit(result, settings.calciumUpperMgDl));
  if (high) {
    reasons.push(
      `calcium ${high.comparator ?? ''}${formatReported(high.reportedValue)} ${high.reportedUnit ?? ''}`.trim(),
    );
    const limit = `${settings.calciumUpperMgDl} mg/dL${isMolar(high) ? ` (${molarLimit(settings.calciumUpperMgDl)} mmol/L)` : ''}`;
    facts.push(`${calciumFact(high)}, above ${limit}`);
  } else if (calcium[0]) {
    facts.push(calciumFact(calcium[0]));
  }
  const notes: NoteRef[] = [];
  if (calcium.length === 0) {
    notes.push({
      id: calciumUnavailable ? 'calciumUnavailable' : 'calciumNotChecked',
      vars: { months: String(settings.calciumWindowMonths) },
    });
  }
  const stones = countedInGroup(record.conditions, 'kidneyStones')[0];
  if (stones && reasons.length === 0) {
    notes.push({ id: 'kidneyStones', vars: { condition: conditionName(stones) } });
  }
  const recentTest = calcium.some((result) => result.time >= addDays(now, -settings.calciumTestWithinDays));
  return { reasons, facts, offerCalciumTest: reasons.length > 0 && !recentTest, notes };
}
