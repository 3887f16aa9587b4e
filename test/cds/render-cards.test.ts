import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, CdsServiceDefinition } from '../../src/catalog/load-catalog.js';
import type { Decision } from '../../src/cds/decide.js';
import type { ParsedRequest } from '../../src/cds/parse-request.js';
import { renderCards } from '../../src/cds/render-cards.js';
import type { Finding } from '../../src/domain/findings.js';
import { toPatientRecord } from '../../src/fhir/prefetch.js';
import {
  B12_ORDER,
  FOLIC_ACID,
  medicationRequest,
  NOW,
  patient,
  PATIENT_ID,
  serviceRequest,
} from '../helpers/builders.js';
import { defaultCatalog, suggestedCodes, suggestedResources } from '../helpers/build-app.js';
import { responseProblems } from '../helpers/card-validator.js';

const HOOK_INSTANCE = '5d3c1b2a-7e6f-4a8b-9c0d-1e2f3a4b5c6d';

let catalog: Catalog;
let service: CdsServiceDefinition;
beforeAll(async () => {
  catalog = await defaultCatalog();
  service = catalog.services.get('b12-drug-risk')!;
});

const folicAcid = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' });

/** What rule B12-NEW-DRUG finds for a PPI ordered with no B12 result: a B12 test. */
const newDrug: Finding = {
  ruleId: 'B12-NEW-DRUG',
  situation: 'b12-new-drug',
  indicator: 'info',
  vars: { drug: 'Omeprazole 20 MG', windowMonths: '36' },
  facts: ['Ordered: Omeprazole 20 MG'],
  threshold: 'No B12 result in the last 36 months.',
  notes: [],
  suggestions: [{ kind: 'lab', lab: 'b12', recommended: true }],
  selectionBehavior: 'at-most-one',
};

/** What rule FOLIC-ACID finds for folic acid with an indeterminate B12: an MMA test. */
const folicAcidGuard: Finding = {
  ruleId: 'FOLIC-ACID',
  situation: 'folic-acid-guard',
  indicator: 'warning',
  vars: {},
  facts: ['Ordered: folic acid 1 MG Oral Tablet', 'B12 status: indeterminate'],
  threshold: 'B12 below 180 pg/mL is deficient.',
  notes: [],
  suggestions: [{ kind: 'lab', lab: 'mma', recommended: true }],
  selectionBehavior: 'at-most-one',
};

function parsed(
  draftOrders: Resource[] = [folicAcid],
  serviceId = 'b12-drug-risk-order-sign',
): ParsedRequest {
  return { hook: 'order-sign', serviceId, patientId: PATIENT_ID, draftOrders, focusOrders: draftOrders };
}

function decision(findings: Finding[], resources: Resource[] = [patient()]): Decision {
  return {
    findings,
    record: toPatientRecord(PATIENT_ID, resources),
    now: NOW,
    caller: { issuer: '', tenant: '' },
    patientKey: 'keyed-hash-of-pt-1',
  };
}

describe('renderCards', () => {
  it('gives one card per finding, in the order of the findings', () => {
    const forward = renderCards(
      catalog,
      service,
      HOOK_INSTANCE,
      parsed(),
      decision([newDrug, folicAcidGuard]),
    );
    const backward = renderCards(
      catalog,
      service,
      HOOK_INSTANCE,
      parsed(),
      decision([folicAcidGuard, newDrug]),
    );
    expect(forward.map((card) => card.source.topic.code)).toEqual(['B12-NEW-DRUG', 'FOLIC-ACID']);
    expect(backward.map((card) => card.source.topic.code)).toEqual(['FOLIC-ACID', 'B12-NEW-DRUG']);
    expect(responseProblems({ cards: forward })).toEqual([]);
  });

  it("words each card from the catalog: summary, rule display and the service's title", () => {
    const [card] = renderCards(catalog, service, HOOK_INSTANCE, parsed(), decision([newDrug]));
    expect(card?.summary).toBe(
      'Omeprazole 20 MG ordered for a patient at B12 risk with no vitamin B12 result in 36 months: consider B12',
    );
    expect(card?.source.label).toBe('Vitamin B12 with metformin, PPIs and H2 blockers');
    expect(card?.source.topic.display).toBe('Vitamin B12 when a B12-lowering drug is ordered');
    expect(card?.overrideReasons).toEqual(catalog.cards.overrideReasons);
  });

  it("a site's own wording (CARDS_OVERRIDE_FILE) is what the card says", () => {
    const site: Catalog = {
      ...catalog,
      cards: {
        ...catalog.cards,
        situations: {
          ...catalog.cards.situations,
          'b12-new-drug': {
            ...catalog.cards.situations['b12-new-drug'],
            summary: 'Check B12: {drug} ordered',
          },
        },
        rules: { ...catalog.cards.rules, 'B12-NEW-DRUG': { display: 'B12 and new acid suppressants' } },
      },
    };
    const [card] = renderCards(site, service, HOOK_INSTANCE, parsed(), decision([newDrug]));
    expect(card?.summary).toBe('Check B12: Omeprazole 20 MG ordered');
    expect(card?.source.topic.display).toBe('B12 and new acid suppressants');
  });

  it('leaves out a card whose every order is already drafted, and keeps the order of the rest', () => {
    const b12Drafted = serviceRequest(B12_ORDER, { status: 'draft', id: 'b12-draft' });
    const cards = renderCards(
      catalog,
      service,
      HOOK_INSTANCE,
      parsed([folicAcid, b12Drafted]),
      decision([newDrug, folicAcidGuard]),
    );
    expect(cards.map((card) => card.source.topic.code)).toEqual(['FOLIC-ACID']);
    expect(suggestedCodes(cards[0]!)).toEqual(['ServiceRequest 13964-2']);
  });

  it('leaves out a card whose every order is already active on the record', () => {
    const b12Active = serviceRequest(B12_ORDER, { status: 'active', id: 'b12-active' });
    const cards = renderCards(
      catalog,
      service,
      HOOK_INSTANCE,
      parsed(),
      decision([newDrug], [patient(), b12Active]),
    );
    expect(cards).toEqual([]);
  });

  it('orders for the patient of the call, with uuids from the hook entry, hookInstance, rule and patient key', () => {
    const [signed] = renderCards(catalog, service, HOOK_INSTANCE, parsed(), decision([newDrug]));
    const [again] = renderCards(catalog, service, HOOK_INSTANCE, parsed(), decision([newDrug]));
    const [viaSelect] = renderCards(
      catalog,
      service,
      HOOK_INSTANCE,
      parsed([folicAcid], 'b12-drug-risk-order-select'),
      decision([newDrug]),
    );
    expect(again?.uuid).toBe(signed?.uuid);
    expect(viaSelect?.uuid).not.toBe(signed?.uuid);
    expect(suggestedResources(signed!).map((resource) => resource['subject'])).toEqual([
      { reference: `Patient/${PATIENT_ID}` },
    ]);
  });

  it('no findings, no cards', () => {
    expect(renderCards(catalog, service, HOOK_INSTANCE, parsed(), decision([]))).toEqual([]);
  });
});
