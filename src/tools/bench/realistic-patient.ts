import type { Resource } from '@medplum/fhirtypes';

/**
 * About a hundred resources of one patient, the size of a real record's relevant slice: chronic back pain and
 * other problems, a planned lumbar fusion, metformin and a PPI for years, vitamin D and B12 history, and the
 * routine labs, drugs and procedures around them. Every service has something to say about this patient.
 */
export const BENCH_PATIENT_ID = 'bench-patient';

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const ahead = (days: number) => new Date(Date.now() + days * DAY).toISOString();
const subject = { reference: `Patient/${BENCH_PATIENT_ID}` };
const coding = (system: string, code: string, display: string) => ({
  coding: [{ system, code, display }],
  text: display,
});
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const RX = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const active = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
};

export function realisticPatient(): Resource[] {
  const resources: Resource[] = [
    {
      resourceType: 'Patient',
      id: BENCH_PATIENT_ID,
      birthDate: '1961-05-14',
      gender: 'female',
      name: [{ family: 'Bench', given: ['Beatrix'] }],
    },
  ];
  const conditions: [string, string, number][] = [
    ['278860009', 'Chronic low back pain', 900],
    ['18347007', 'Spinal stenosis of lumbar region', 700],
    ['44054006', 'Type 2 diabetes mellitus', 3000],
    ['235595009', 'Gastroesophageal reflux disease', 1500],
    ['38341003', 'Hypertensive disorder', 2500],
    ['55822004', 'Hyperlipidemia', 2000],
    ['195967001', 'Asthma', 5000],
    ['35489007', 'Depressive disorder', 1200],
    ['302226006', 'Peripheral nerve disease', 300],
    ['40055000', 'Chronic sinusitis', 4000],
  ];
  conditions.forEach(([code, display, days], index) =>
    resources.push({
      resourceType: 'Condition',
      id: `bench-cond-${index}`,
      subject,
      clinicalStatus: active,
      code: coding(SCT, code, display),
      onsetDateTime: ago(days),
    }),
  );
  const labs: [string, string, string, number][] = [
    ['718-7', 'Hemoglobin', 'g/dL', 13.2],
    ['4548-4', 'Hemoglobin A1c', '%', 7.4],
    ['2093-3', 'Cholesterol', 'mg/dL', 190],
    ['2160-0', 'Creatinine', 'mg/dL', 0.9],
    ['787-2', 'MCV', 'fL', 94],
    ['6690-2', 'Leukocytes', '10*3/uL', 6.1],
    ['2345-7', 'Glucose', 'mg/dL', 131],
    ['17861-6', 'Calcium', 'mg/dL', 9.4],
  ];
  for (let month = 0; month < 9; month++) {
    labs.forEach(([code, display, unit, value], index) =>
      resources.push({
        resourceType: 'Observation',
        id: `bench-lab-${month}-${index}`,
        status: 'final',
        subject,
        category: [
          coding('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory', 'Laboratory'),
        ],
        code: coding(LOINC, code, display),
        effectiveDateTime: ago(30 * month + index),
        valueQuantity: { value: value + month * 0.1, unit, system: 'http://unitsofmeasure.org', code: unit },
      }),
    );
  }
  const vitaminD: [number, number][] = [
    [14, 500],
    [22, 300],
    [18, 200],
  ];
  vitaminD.forEach(([value, days], index) =>
    resources.push({
      resourceType: 'Observation',
      id: `bench-vd-${index}`,
      status: 'final',
      subject,
      code: coding(LOINC, '62292-8', '25-Hydroxyvitamin D'),
      effectiveDateTime: ago(days),
      valueQuantity: { value, unit: 'ng/mL', system: 'http://unitsofmeasure.org', code: 'ng/mL' },
    }),
  );
  [
    [420, 1500],
    [260, 1300],
  ].forEach(([value, days], index) =>
    resources.push({
      resourceType: 'Observation',
      id: `bench-b12-${index}`,
      status: 'final',
      subject,
      code: coding(LOINC, '2132-9', 'Cobalamin (Vitamin B12)'),
      effectiveDateTime: ago(days ?? 0),
      valueQuantity: { value: value ?? 0, unit: 'pg/mL', system: 'http://unitsofmeasure.org', code: 'pg/mL' },
    }),
  );
  const meds: [string, string, number, string][] = [
    ['860975', '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet', 1800, 'active'],
    ['198051', 'omeprazole 20 MG Delayed Release Oral Capsule', 1400, 'active'],
    ['314076', 'lisinopril 10 MG Oral Tablet', 2400, 'active'],
    ['617312', 'atorvastatin 40 MG Oral Tablet', 1900, 'active'],
    ['745679', 'albuterol 0.09 MG/ACTUAT inhaler', 4000, 'active'],
    ['310385', 'fluoxetine 20 MG Oral Capsule', 1100, 'active'],
    ['198405', 'ibuprofen 400 MG Oral Tablet', 800, 'stopped'],
    ['856917', 'gabapentin 300 MG Oral Capsule', 250, 'active'],
    ['860975', '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet', 2200, 'stopped'],
    ['197361', 'amlodipine 5 MG Oral Tablet', 900, 'active'],
  ];
  meds.forEach(([code, display, days, status], index) =>
    resources.push({
      resourceType: 'MedicationRequest',
      id: `bench-med-${index}`,
      status: status as 'active',
      intent: 'order',
      subject,
      medicationCodeableConcept: coding(RX, code, display),
      authoredOn: ago(days),
    }),
  );
  resources.push({
    resourceType: 'MedicationStatement',
    id: 'bench-medst-0',
    status: 'active',
    subject,
    medicationCodeableConcept: { text: 'Fish oil 1000 mg' },
    effectivePeriod: { start: ago(600) },
  });
  resources.push({
    resourceType: 'MedicationStatement',
    id: 'bench-medst-1',
    status: 'completed',
    subject,
    medicationCodeableConcept: { text: 'Naproxen 250 mg' },
    effectivePeriod: { start: ago(700), end: ago(650) },
  });
  resources.push({
    resourceType: 'ServiceRequest',
    id: 'bench-sr-fusion',
    status: 'active',
    intent: 'order',
    subject,
    code: coding(SCT, '50172003', 'Lumbar spinal fusion'),
    occurrenceDateTime: ahead(40),
  });
  ['Chest X-ray', 'Physical therapy', 'MRI lumbar spine'].forEach((display, index) =>
    resources.push({
      resourceType: 'ServiceRequest',
      id: `bench-sr-${index}`,
      status: 'completed',
      intent: 'order',
      subject,
      code: { text: display },
      occurrenceDateTime: ago(100 * (index + 1)),
    }),
  );
  ['Colonoscopy', 'Epidural steroid injection', 'Dental cleaning', 'Influenza vaccination'].forEach(
    (display, index) =>
      resources.push({
        resourceType: 'Procedure',
        id: `bench-proc-${index}`,
        status: 'completed',
        subject,
        code: { text: display },
        performedDateTime: ago(200 * (index + 1)),
      }),
  );
  return resources;
}
