import type {
  Condition,
  DiagnosticReport,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { HookName } from './hooks.js';

/** The patient's FHIR data the rules read, whether it came from prefetch or the FHIR server. */
export interface PatientRecord {
  readonly patientId: string;
  readonly patient?: Patient | undefined;
  readonly conditions: readonly Condition[];
  readonly observations: readonly Observation[];
  readonly medicationStatements: readonly MedicationStatement[];
  readonly medicationRequests: readonly MedicationRequest[];
  readonly serviceRequests: readonly ServiceRequest[];
  readonly procedures: readonly Procedure[];
  /** Lab reports: results listed in one report are one measurement (change 1). */
  readonly diagnosticReports?: readonly DiagnosticReport[] | undefined;
  /** Medication resources that MedicationRequest/MedicationStatement reference as `Medication/{id}`. */
  readonly medications?: readonly Medication[] | undefined;
  /** Prefetch keys the FHIR server could not answer (unsupported type or parameter): their data is unknown. */
  readonly unavailableKeys?: ReadonlySet<string> | undefined;
  /** True when a search stopped at FHIR_MAX_PAGES, so the record may be incomplete. */
  readonly truncated?: boolean | undefined;
}

/** The hook call as the rules see it. */
export interface HookInput {
  readonly hook: HookName;
  readonly now: Date;
  /** Every unsigned order in the session (order hooks), else empty. */
  readonly draftOrders: readonly Resource[];
  /** The orders the advice is about: the selections in order-select, every draft in order-sign. */
  readonly focusOrders: readonly Resource[];
}
