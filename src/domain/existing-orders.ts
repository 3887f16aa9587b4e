import type { Resource } from '@medplum/fhirtypes';
import type { LabKey, MedicationKey, OrderCatalog } from './card-and-order-schemas.js';
import { codesOf, conceptText } from './codings.js';
import {
  classifyConcept,
  isAtRepletionStrength,
  isMultivitamin,
  MAX_NAME_LENGTH,
  medicationConcept,
} from './medications.js';
import type { PatientRecord } from './patient-record.js';
import {
  B12_BLOOD_LOINC,
  B12_TOTAL_LOINC,
  CALCIUM_RESULT_CODES,
  HOLO_TC_LOINC,
  LAB_ORDER_CPT,
  MMA_LOINC,
  SYSTEM,
  VITAMIN_D_PRODUCTS,
  VITAMIN_D_RESULT_CODES,
} from './value-sets.js';

const NO_CODES: ReadonlySet<string> = new Set();

/** The codes of each test an order may carry: any LOINC of the family, or its billing CPT code. */
const LAB_FAMILIES: Readonly<
  Record<LabKey, { readonly loinc: ReadonlySet<string>; readonly cpt: ReadonlySet<string> }>
> = {
  vitaminD: { loinc: VITAMIN_D_RESULT_CODES, cpt: LAB_ORDER_CPT.vitaminD },
  b12: { loinc: new Set([...B12_TOTAL_LOINC, ...B12_BLOOD_LOINC, ...HOLO_TC_LOINC]), cpt: LAB_ORDER_CPT.b12 },
  mma: { loinc: MMA_LOINC, cpt: NO_CODES },
  calcium: { loinc: CALCIUM_RESULT_CODES, cpt: NO_CODES },
};

/**
 * Change 3: a suggested medication is "already active" only when the same product is: the same RxNorm code,
 * or the same ingredient by name. Another product of the same class (a maintenance cholecalciferol beside a
 * suggested ergocalciferol) never hides a suggestion. Any vitamin D at repletion strength (50,000 IU of D3
 * weekly) is the same repletion as the suggested ergocalciferol: offering both would double the dose.
 */
const SAME_PRODUCT: Readonly<
  Record<
    MedicationKey,
    { readonly rxnorm: readonly string[]; readonly name: RegExp; readonly orAnyVitaminDRepletion?: true }
  >
> = {
  ergocalciferolWeekly: {
    ...VITAMIN_D_PRODUCTS.ergocalciferol,
    orAnyVitaminDRepletion: true,
  },
  cholecalciferolDaily: VITAMIN_D_PRODUCTS.cholecalciferol,
  cyanocobalaminOral: { rxnorm: ['11248'], name: /cyanocobalamin/i },
  hydroxocobalaminIm: { rxnorm: ['317106'], name: /hydroxocobalamin/i },
  hydroxocobalaminImNeurological: { rxnorm: ['317106'], name: /hydroxocobalamin/i },
};

function statusOf(resource: Resource): string {
  const status: unknown = (resource as { status?: unknown }).status;
  return typeof status === 'string' ? status : '';
}

/** Change 10: an order that says not to do something is not an order for it. */
export function isDoNotPerform(resource: Resource): boolean {
  return (resource as { doNotPerform?: unknown }).doNotPerform === true;
}

const OPEN_REQUEST: ReadonlySet<string> = new Set(['draft', 'active', 'on-hold']);
const OPEN_STATEMENT: ReadonlySet<string> = new Set(['active', 'intended', 'on-hold']);
/** Statuses of an order, or of a Procedure sent as one, that no longer stands. */
const WITHDRAWN: ReadonlySet<string> = new Set([
  'revoked',
  'cancelled',
  'entered-in-error',
  'stopped',
  'completed',
  'not-done',
]);

/** A draft or selected order that still stands: not withdrawn, and not an order not to do something. */
export function isLiveOrder(order: Resource): boolean {
  return !WITHDRAWN.has(statusOf(order)) && !isDoNotPerform(order);
}

/**
 * Whether an order a card would suggest is already active on the record or among the draft orders, so that
 * no card ever suggests it again.
 */
export function createOrderLookup(
  catalog: OrderCatalog,
  record: PatientRecord,
  draftOrders: readonly Resource[],
) {
  const medications = record.medications ?? [];
  const openRecordOrders: Resource[] = [
    ...record.serviceRequests.filter((request) => OPEN_REQUEST.has(request.status)),
    ...record.medicationRequests.filter(
      (request) => request.status === 'active' || request.status === 'on-hold',
    ),
    ...record.medicationStatements.filter((statement) => OPEN_STATEMENT.has(statement.status)),
  ];
  const orders = [
    ...openRecordOrders.filter((order) => !isDoNotPerform(order)),
    ...draftOrders.filter(isLiveOrder),
  ];

  function hasLab(key: LabKey): boolean {
    const siteCode = catalog.labs[key].code;
    return orders.some((order) => {
      if (order.resourceType !== 'ServiceRequest') {
        return false;
      }
      const family = LAB_FAMILIES[key];
      return (
        codesOf([order.code], SYSTEM.loinc).some((code) => family.loinc.has(code)) ||
        codesOf([order.code], SYSTEM.cpt).some((code) => family.cpt.has(code)) ||
        codesOf([order.code], siteCode.system).includes(siteCode.code)
      );
    });
  }

  function hasMedication(key: MedicationKey): boolean {
    const siteCode = catalog.medications[key].code;
    const product = SAME_PRODUCT[key];
    return orders.some((order) => {
      const concept = medicationConcept(order, medications);
      if (!concept) {
        return false;
      }
      const rxnorm = codesOf([concept], SYSTEM.rxnorm);
      const name = conceptText(concept).slice(0, MAX_NAME_LENGTH);
      return (
        rxnorm.some((code) => product.rxnorm.includes(code)) ||
        codesOf([concept], siteCode.system).includes(siteCode.code) ||
        (product.name.test(name) && !isMultivitamin(name)) ||
        (product.orAnyVitaminDRepletion === true &&
          isAtRepletionStrength(concept) &&
          classifyConcept(concept).has('vitaminD'))
      );
    });
  }

  return { hasLab, hasMedication };
}

export type OrderLookup = ReturnType<typeof createOrderLookup>;
