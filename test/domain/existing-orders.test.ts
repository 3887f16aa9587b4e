import type { MedicationRequest, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createOrderLookup } from '../../src/domain/existing-orders.js';
import type { PatientRecord } from '../../src/domain/patient-record.js';
import { cpt, medicationRequest, serviceRequest } from '../helpers/builders.js';
import { defaultCatalog } from '../helpers/build-app.js';

async function lookup(
  serviceRequests: ServiceRequest[],
  draftOrders: Resource[] = [],
  medicationRequests: MedicationRequest[] = [],
) {
  const record: PatientRecord = {
    patientId: 'pt-1',
    conditions: [],
    observations: [],
    medicationStatements: [],
    medicationRequests,
    serviceRequests,
    procedures: [],
  };
  return createOrderLookup((await defaultCatalog()).orders, record, draftOrders);
}

describe('lab orders already placed, coded with the billing CPT code only', () => {
  // Knowledge base §2.3: 82306 is 25-OH vitamin D, 82607 is B12 (lab catalogs, V2).
  it('an active 25(OH)D order coded CPT 82306 is already the vitamin D test', async () => {
    const orders = await lookup([serviceRequest(cpt('82306', 'Vitamin D; 25 hydroxy'))]);
    expect(orders.hasLab('vitaminD')).toBe(true);
    expect(orders.hasLab('b12')).toBe(false);
  });

  it('a draft B12 order coded CPT 82607 is already the B12 test', async () => {
    const draft = serviceRequest(cpt('82607', 'Cyanocobalamin (vitamin B-12)'), { status: 'draft' });
    const orders = await lookup([], [draft]);
    expect(orders.hasLab('b12')).toBe(true);
    expect(orders.hasLab('vitaminD')).toBe(false);
  });

  it('a CPT code of another test (82652, 1,25-dihydroxyvitamin D) is not a 25(OH)D order', async () => {
    const orders = await lookup([serviceRequest(cpt('82652', 'Vitamin D; 1, 25 dihydroxy'))]);
    expect(orders.hasLab('vitaminD')).toBe(false);
  });
});

describe('a multivitamin is not the product a card suggests', () => {
  it.each([
    ['Multivitamin with vitamin D3 400 IU', 'cholecalciferolDaily'],
    [
      'ascorbic acid 60 MG / biotin 0.03 MG / cyanocobalamin 0.006 MG / folic acid 0.4 MG Oral Tablet',
      'cyanocobalaminOral',
    ],
  ] as const)('an active "%s" does not hide %s', async (text, key) => {
    const orders = await lookup([], [], [medicationRequest({ text })]);
    expect(orders.hasMedication(key)).toBe(false);
  });

  it('the product itself still does', async () => {
    const orders = await lookup([], [], [medicationRequest({ text: 'Cholecalciferol 1,000 IU tablet' })]);
    expect(orders.hasMedication('cholecalciferolDaily')).toBe(true);
  });
});
