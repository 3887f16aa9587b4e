import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  b12,
  chronicLowBackPain,
  daysAgo,
  draftOrders,
  FOLIC_ACID,
  LUMBAR_FUSION,
  METFORMIN,
  medicationRequest,
  monthsAgo,
  OMEPRAZOLE,
  serviceRequest,
  vitaminD,
} from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';
import { responseProblems } from '../helpers/card-validator.js';

let app: FastifyInstance;
let baseUrl: string;
beforeAll(async () => {
  app = await buildTestApp();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await app.close();
});

interface Case {
  service: string;
  hook: 'patient-view' | 'order-select' | 'order-sign';
  resources: Resource[];
  drafts?: Resource[];
  selections?: string[];
  expected: string[];
}

const fusionDraft = serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'fusion-9' });
const ppiDraft = medicationRequest(OMEPRAZOLE, { status: 'draft', id: 'ppi-9' });
const folicDraft = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-9' });
const metformin = medicationRequest(METFORMIN, { authoredOn: monthsAgo(30) });

const cases: Case[] = [
  {
    service: 'vitamin-d-back-pain',
    hook: 'patient-view',
    resources: [chronicLowBackPain(), vitaminD(12, daysAgo(9))],
    expected: ['VD warning'],
  },
  {
    service: 'spine-preop-vitamin-d',
    hook: 'patient-view',
    resources: [serviceRequest(LUMBAR_FUSION, { status: 'active' })],
    expected: ['SP warning'],
  },
  {
    service: 'spine-preop-vitamin-d-order-select',
    hook: 'order-select',
    resources: [vitaminD(24, daysAgo(9))],
    drafts: [fusionDraft],
    selections: ['ServiceRequest/fusion-9'],
    expected: ['SP warning'],
  },
  {
    service: 'spine-preop-vitamin-d-order-sign',
    hook: 'order-sign',
    resources: [],
    drafts: [fusionDraft],
    expected: ['SP warning'],
  },
  {
    service: 'b12-drug-risk',
    hook: 'patient-view',
    resources: [metformin, b12(160, daysAgo(9))],
    expected: ['B12 warning'],
  },
  {
    service: 'b12-drug-risk-order-select',
    hook: 'order-select',
    resources: [metformin],
    drafts: [ppiDraft, folicDraft],
    selections: ['MedicationRequest/ppi-9', 'MedicationRequest/folic-9'],
    expected: ['B12-NEW-DRUG info', 'FOLIC-ACID warning'],
  },
  {
    service: 'b12-drug-risk-order-sign',
    hook: 'order-sign',
    resources: [metformin],
    drafts: [folicDraft],
    expected: ['FOLIC-ACID warning'],
  },
];

/** Before one id per hook, a service's own id answered all its hooks; EHRs configured that way keep working. */
const legacyCases = cases
  .filter((entry) => entry.hook !== 'patient-view')
  .map((entry) => ({ ...entry, service: entry.service.replace(/-order-(select|sign)$/, '') }));

describe('every service and hook through the real HTTP layer', () => {
  it.each([...cases, ...legacyCases])(
    '$service on $hook',
    async ({ service, hook, resources, drafts, selections, expected }) => {
      const templates = (await defaultCatalog()).endpoints.get(service)!.service.prefetch;
      const context: Record<string, unknown> = { userId: 'Practitioner/dr-1', patientId: 'pt-1' };
      if (drafts) {
        context['draftOrders'] = draftOrders(...drafts);
      }
      if (selections) {
        context['selections'] = selections;
      }
      const response = await fetch(`${baseUrl}/cds-services/${service}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          hook,
          hookInstance: crypto.randomUUID(),
          context,
          prefetch: prefetchFor(templates, resources),
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        cards: {
          indicator: string;
          source: { topic: { code: string } };
          uuid: string;
          suggestions: { uuid: string }[];
        }[];
      };
      expect(responseProblems(body)).toEqual([]);
      expect(body.cards.map((card) => `${card.source.topic.code} ${card.indicator}`)).toEqual(expected);
      for (const card of body.cards) {
        expect(card.uuid).toMatch(/^[0-9a-f-]{36}$/);
        expect(card.suggestions.every((suggestion) => /^[0-9a-f-]{36}$/.test(suggestion.uuid))).toBe(true);
      }
    },
  );

  it('card and suggestion uuids are stable for one hook call and differ between calls', async () => {
    const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
    const send = (hookInstance: string) =>
      fetch(`${baseUrl}/cds-services/vitamin-d-back-pain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          hook: 'patient-view',
          hookInstance,
          context: { userId: 'Practitioner/dr-1', patientId: 'pt-1' },
          prefetch: prefetchFor(templates, [chronicLowBackPain()]),
        }),
      }).then(async (response) => ((await response.json()) as { cards: { uuid: string }[] }).cards[0]?.uuid);
    const first = await send('11111111-1111-4111-8111-111111111111');
    expect(await send('11111111-1111-4111-8111-111111111111')).toBe(first);
    expect(await send('22222222-2222-4222-8222-222222222222')).not.toBe(first);
  });
});
