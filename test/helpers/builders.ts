import type {
  Coding,
  Condition,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';

/** Every test measures windows from this instant. */
export const NOW = new Date('2026-11-22T12:00:00Z');
export const PATIENT_ID = 'pt-1';

const DAY = 86_400_000;
export const daysAgo = (days: number): string => new Date(NOW.getTime() - days * DAY).toISOString();
export const daysAhead = (days: number): string => new Date(NOW.getTime() + days * DAY).toISOString();
export const weeksAgo = (weeks: number): string => daysAgo(weeks * 7);

/** A birth date `years` years (and `days` days later) before NOW, as YYYY-MM-DD. */
export function bornYearsAgo(years: number, days = 0): string {
  const date = new Date(NOW.getTime());
  date.setUTCFullYear(date.getUTCFullYear() - years);
  return new Date(date.getTime() + days * DAY).toISOString().slice(0, 10);
}
export function monthsAgo(months: number, extraDays = 0): string {
  const date = new Date(NOW.getTime());
  date.setUTCMonth(date.getUTCMonth() - months);
  return new Date(date.getTime() - extraDays * DAY).toISOString();
}

export const snomed = (code: string, display = `SNOMED ${code}`): Coding => ({
  system: 'http://snomed.info/sct',
  code,
  display,
});
export const icd10 = (code: string, display = `ICD-10-CM ${code}`): Coding => ({
  system: 'http://hl7.org/fhir/sid/icd-10-cm',
  code,
  display,
});
export const loinc = (code: string, display = `LOINC ${code}`): Coding => ({
  system: 'http://loinc.org',
  code,
  display,
});
export const rxnorm = (code: string, display = `RxNorm ${code}`): Coding => ({
  system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  code,
  display,
});
export const cpt = (code: string, display = `CPT ${code}`): Coding => ({
  system: 'http://www.ama-assn.org/go/cpt',
  code,
  display,
});

let sequence = 0;
const nextId = (prefix: string): string => `${prefix}-${++sequence}`;
const subject = (patientId: string) => ({ reference: `Patient/${patientId}` });

export function patient(id = PATIENT_ID, extra: Partial<Patient> = {}): Patient {
  return { resourceType: 'Patient', id, ...extra };
}

export interface ConditionOptions {
  onset?: string;
  recorded?: string;
  clinicalStatus?: string | null;
  verificationStatus?: string;
  text?: string;
  id?: string;
  patientId?: string;
}

export function condition(codings: Coding | Coding[] | null, options: ConditionOptions = {}): Condition {
  const clinicalStatus = options.clinicalStatus === undefined ? 'active' : options.clinicalStatus;
  return {
    resourceType: 'Condition',
    id: options.id ?? nextId('cond'),
    subject: subject(options.patientId ?? PATIENT_ID),
    code: {
      ...(codings ? { coding: Array.isArray(codings) ? codings : [codings] } : {}),
      ...(options.text ? { text: options.text } : {}),
    },
    ...(clinicalStatus
      ? {
          clinicalStatus: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinicalStatus },
            ],
          },
        }
      : {}),
    ...(options.verificationStatus
      ? {
          verificationStatus: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
                code: options.verificationStatus,
              },
            ],
          },
        }
      : {}),
    ...(options.onset ? { onsetDateTime: options.onset } : {}),
    ...(options.recorded ? { recordedDate: options.recorded } : {}),
  };
}

/** Chronic low back pain (SNOMED, chronic by code) since a year ago. */
export const chronicLowBackPain = (options: ConditionOptions = {}): Condition =>
  condition(snomed('278860009', 'Chronic low back pain'), { onset: monthsAgo(12), ...options });

export interface ObservationOptions {
  status?: Observation['status'];
  comparator?: '<' | '<=' | '>=' | '>';
  id?: string;
  unitCode?: string;
  valueString?: string;
  issuedOnly?: boolean;
  patientId?: string;
}

export function observation(
  code: string,
  value: number | undefined,
  unit: string | undefined,
  when: string | undefined,
  options: ObservationOptions = {},
): Observation {
  return {
    resourceType: 'Observation',
    id: options.id ?? nextId('obs'),
    status: options.status ?? 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
        ],
      },
    ],
    code: { coding: [loinc(code)] },
    subject: subject(options.patientId ?? PATIENT_ID),
    ...(when ? (options.issuedOnly ? { issued: when } : { effectiveDateTime: when }) : {}),
    ...(value !== undefined
      ? {
          valueQuantity: {
            value,
            ...(unit ? { unit, system: 'http://unitsofmeasure.org', code: options.unitCode ?? unit } : {}),
            ...(options.comparator ? { comparator: options.comparator } : {}),
          },
        }
      : {}),
    ...(options.valueString ? { valueString: options.valueString } : {}),
  };
}

/** Total 25(OH)D in ng/mL. */
export const vitaminD = (value: number, when: string, options: ObservationOptions = {}): Observation =>
  observation('62292-8', value, 'ng/mL', when, options);
/** 25(OH)D in nmol/L. */
export const vitaminDNmol = (value: number, when: string, options: ObservationOptions = {}): Observation =>
  observation('14635-7', value, 'nmol/L', when, options);
/** Total B12 in pg/mL. */
export const b12 = (value: number, when: string, options: ObservationOptions = {}): Observation =>
  observation('2132-9', value, 'pg/mL', when, options);
export const b12Pmol = (value: number, when: string, options: ObservationOptions = {}): Observation =>
  observation('14685-2', value, 'pmol/L', when, options);
export const holoTc = (value: number, when: string, options: ObservationOptions = {}): Observation =>
  observation('72160-5', value, 'pmol/L', when, options);

export type MedicationCode = Coding | { text: string };

function concept(code: MedicationCode) {
  return 'text' in code
    ? { text: code.text }
    : { coding: [code], ...(code.display ? { text: code.display } : {}) };
}

export interface MedicationOptions {
  status?: string;
  authoredOn?: string;
  id?: string;
  patientId?: string;
}

export function medicationRequest(code: MedicationCode, options: MedicationOptions = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: options.id ?? nextId('medrx'),
    status: (options.status ?? 'active') as MedicationRequest['status'],
    intent: 'order',
    subject: subject(options.patientId ?? PATIENT_ID),
    medicationCodeableConcept: concept(code),
    ...(options.authoredOn ? { authoredOn: options.authoredOn } : {}),
  };
}

export function medicationStatement(
  code: MedicationCode,
  options: { status?: string; start?: string; end?: string; asserted?: string; id?: string } = {},
): MedicationStatement {
  return {
    resourceType: 'MedicationStatement',
    id: options.id ?? nextId('medst'),
    status: (options.status ?? 'active') as MedicationStatement['status'],
    subject: subject(PATIENT_ID),
    medicationCodeableConcept: concept(code),
    ...(options.start || options.end
      ? {
          effectivePeriod: {
            ...(options.start ? { start: options.start } : {}),
            ...(options.end ? { end: options.end } : {}),
          },
        }
      : {}),
    ...(options.asserted ? { dateAsserted: options.asserted } : {}),
  };
}

export function serviceRequest(
  code: Coding,
  options: {
    status?: ServiceRequest['status'];
    occurrence?: string;
    id?: string;
    reasonConditionId?: string;
  } = {},
): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    id: options.id ?? nextId('sr'),
    status: options.status ?? 'active',
    intent: 'order',
    subject: subject(PATIENT_ID),
    code: { coding: [code], ...(code.display ? { text: code.display } : {}) },
    ...(options.occurrence ? { occurrenceDateTime: options.occurrence } : {}),
    ...(options.reasonConditionId
      ? { reasonReference: [{ reference: `Condition/${options.reasonConditionId}` }] }
      : {}),
  };
}

export function procedure(
  code: Coding,
  options: { status?: Procedure['status']; performed?: string; id?: string } = {},
): Procedure {
  return {
    resourceType: 'Procedure',
    id: options.id ?? nextId('proc'),
    status: options.status ?? 'completed',
    subject: subject(PATIENT_ID),
    code: { coding: [code], ...(code.display ? { text: code.display } : {}) },
    ...(options.performed ? { performedDateTime: options.performed } : {}),
  };
}

export const METFORMIN = rxnorm(
  '860975',
  '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet',
);
export const OMEPRAZOLE = rxnorm('198051', 'omeprazole 20 MG Delayed Release Oral Capsule');
export const FAMOTIDINE = rxnorm('4278', 'famotidine');
export const ERGOCALCIFEROL = rxnorm('1367410', 'ergocalciferol 1.25 MG Oral Capsule');
export const CYANOCOBALAMIN_INJ = rxnorm('309594', 'cyanocobalamin 1 MG/ML Injectable Solution');
export const FOLIC_ACID = rxnorm('310410', 'folic acid 1 MG Oral Tablet');
export const LUMBAR_FUSION = snomed('50172003', 'Lumbar spinal fusion');
export const VITAMIN_D_ORDER = loinc('62292-8', '25-Hydroxyvitamin D3+25-Hydroxyvitamin D2');
export const B12_ORDER = loinc('2132-9', 'Cobalamin (Vitamin B12)');

/** A draftOrders Bundle the way the spec's examples send it (no Bundle.type). */
export function draftOrders(...orders: Resource[]) {
  return { resourceType: 'Bundle', entry: orders.map((resource) => ({ resource })) };
}
