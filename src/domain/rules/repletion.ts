import type { ClinicalConfig } from '../clinical-config.js';
import { addMonths, formatDate } from '../fhir-time.js';
import type { LabTiming, NoteRef, SuggestedOrder } from '../findings.js';
import type { LabResult } from '../lab-results.js';
import { currentDrugUse, type DrugUse } from '../medications.js';
import type { PatientRecord } from '../patient-record.js';

/**
 * Vitamin D use on record, with the start of its current course (change 2); a completed course counts within
 * rule VD's untested window.
 */
export function vitaminDTherapy(
  record: PatientRecord,
  now: Date,
  config: ClinicalConfig,
): DrugUse | undefined {
  return currentDrugUse([...record.medicationStatements, ...record.medicationRequests], {
    windowStart: addMonths(now, -config.vitaminD.untestedWindowMonths),
    now,
    courseGapDays: config.medications.courseGapDays,
    medications: record.medications,
  }).get('vitaminD');
}

/**
 * Change 3 (rules VD and SP): a low result despite vitamin D the patient takes now, whose course began before
 * the result (or at an unknown date), names the product on the card; repletion is still offered where safe.
 */
export function lowDespiteTherapyNotes(therapy: DrugUse | undefined, latest: LabResult): NoteRef[] {
  if (!therapy?.ongoing || (therapy.start !== undefined && therapy.start > latest.time)) {
    return [];
  }
  return [
    {
      id: 'currentVitaminD',
      vars: {
        product: therapy.names.join(', '),
        since: therapy.start ? `since ${formatDate(therapy.start)}` : 'start date not recorded',
      },
    },
  ];
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
