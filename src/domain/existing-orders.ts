import type { Resource } from '@medplum/fhirtypes';
import type { LabKey, MedicationKey, OrderCatalog } from './catalog.js';
import { codesOf } from './codings.js';
import { classifyConcept, medicationConcept } from './medications.js';
import type { PatientRecord } from './patient-record.js';
import {
  B12_BLOOD_LOINC,
  B12_TOTAL_LOINC,
  HOLO_TC_LOINC,
  MMA_LOINC,
  SYSTEM,
  type DrugClass,
  VITAMIN_D_RESULT_CODES,
} from './value-sets.js';

const LAB_FAMILIES: Readonly<Record<LabKey, ReadonlySet<string>>> = {
  vitaminD: VITAMIN_D_RESULT_CODES,
  b12: new Set([...B12_TOTAL_LOINC, ...B12_BLOOD_LOINC, ...HOLO_TC_LOINC]),
  mma: MMA_LOINC,
};

const MEDICATION_FAMILIES: Readonly<Record<MedicationKey, DrugClass>> = {
  ergocalciferolWeekly: 'vitaminD',
  cholecalciferolDaily: 'vitaminD',
  cyanocobalaminOral: 'b12Replacement',
  hydroxocobalaminIm: 'b12Replacement',
};

function statusOf(resource: Resource): string {
  const status: unknown = (resource as { status?: unknown }).status;
  return typeof status === 'string' ? status : '';
}

const OPEN_REQUEST: ReadonlySet<string> = new Set(['draft', 'active', 'on-hold']);
const OPEN_STATEMENT: ReadonlySet<string> = new Set(['active', 'intended', 'on-hold']);
const WITHDRAWN: ReadonlySet<string> = new Set([
  'revoked',
  'cancelled',
  'entered-in-error',
  'stopped',
  'completed',
]);

/**
 * Whether an order a card would suggest is already active on the record or among the draft orders, so that
 * no card ever suggests it again.
 */
export function createOrderLookup(
  catalog: OrderCatalog,
  record: PatientRecord,
  draftOrders: readonly Resource[],
) {
  const openRecordOrders: Resource[] = [
    ...record.serviceRequests.filter((request) => OPEN_REQUEST.has(request.status)),
    ...record.medicationRequests.filter(
      (request) => request.status === 'active' || request.status === 'on-hold',
    ),
    ...record.medicationStatements.filter((statement) => OPEN_STATEMENT.has(statement.status)),
  ];
  const orders = [...openRecordOrders, ...draftOrders.filter((order) => !WITHDRAWN.has(statusOf(order)))];

  function hasLab(key: LabKey): boolean {
    const siteCode = catalog.labs[key].code;
    return orders.some((order) => {
      if (order.resourceType !== 'ServiceRequest') {
        return false;
      }
      const loinc = codesOf([order.code], SYSTEM.loinc);
      return (
        loinc.some((code) => LAB_FAMILIES[key].has(code)) ||
        codesOf([order.code], siteCode.system).includes(siteCode.code)
      );
    });
  }

  function hasMedication(key: MedicationKey): boolean {
    return orders.some(
      (order) =>
        (order.resourceType === 'MedicationRequest' || order.resourceType === 'MedicationStatement') &&
        classifyConcept(medicationConcept(order)).has(MEDICATION_FAMILIES[key]),
    );
  }

  return { hasLab, hasMedication };
}

export type OrderLookup = ReturnType<typeof createOrderLookup>;
