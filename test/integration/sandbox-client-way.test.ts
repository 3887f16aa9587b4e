import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoPatients } from '../../src/tools/sandbox/demo-patients.js';
import { type FhirSandbox, startFhirSandbox } from '../../src/tools/sandbox/fhir-sandbox.js';
import { buildTestApp } from '../helpers/build-app.js';
import { NOW } from '../helpers/builders.js';
import { responseProblems } from '../helpers/card-validator.js';
import { listeningBaseUrl } from '../helpers/event-loop-probe.js';

/**
 * The reference CDS Hooks Sandbox's way of calling, against the sandbox FHIR server: it reads each prefetch
 * template itself (POST `{type}/_search` with a form body first, GET only if that fails), sends what it got
 * (some keys missing), has the Rx View's one draft `MedicationRequest/request-123` dosed in UCUM `{pill}`, and
 * fires order-select with an empty draft list when the Rx View opens.
 */
let sandbox: FhirSandbox;
let app: FastifyInstance;
let serviceUrl: string;
let discovery: { id: string; hook: string; prefetch?: Record<string, string> }[];
/** How the Sandbox's reads went: `POST` when `_search` answered, `GET` when it fell back, `READ` for a read by id. */
const readsBy: string[] = [];

beforeAll(async () => {
  sandbox = await startFhirSandbox({});
  await sandbox.load(loadDemoPatients(NOW).flatMap((patient) => patient.resources));
  app = await buildTestApp({ env: { FHIR_DEADLINE_MS: '10000', FHIR_CACHE_TTL_MS: '0' } });
  serviceUrl = await listeningBaseUrl(app);
  discovery = ((await (await fetch(`${serviceUrl}/cds-services`)).json()) as { services: typeof discovery })
    .services;
}, 120_000);
afterAll(async () => {
  await app.close();
  await sandbox.close();
});

async function sandboxRead(template: string, patientId: string): Promise<unknown> {
  const [path = '', query] = template.replaceAll('{{context.patientId}}', patientId).split('?');
  const accept = { accept: 'application/fhir+json' };
  if (query !== undefined) {
    const posted = await fetch(`${sandbox.baseUrl}/${path}/_search`, {
      method: 'POST',
      headers: { ...accept, 'content-type': 'application/x-www-form-urlencoded' },
      body: query,
    });
    if (posted.ok) {
      readsBy.push('POST');
      return posted.json();
    }
  }
  readsBy.push(query === undefined ? 'READ' : 'GET');
  const got = await fetch(`${sandbox.baseUrl}/${path}${query === undefined ? '' : `?${query}`}`, {
    headers: accept,
  });
  return got.json();
}

async function callLikeTheSandbox(
  serviceId: string,
  patientId: string,
  options: { context?: Record<string, unknown>; leaveOut?: string[] } = {},
) {
  const service = discovery.find((entry) => entry.id === serviceId);
  if (!service) {
    throw new Error(`discovery has no ${serviceId}`);
  }
  const prefetch: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(service.prefetch ?? {})) {
    if (!(options.leaveOut ?? []).includes(key)) {
      prefetch[key] = await sandboxRead(template, patientId);
    }
  }
  const response = await fetch(`${serviceUrl}/cds-services/${serviceId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      hook: service.hook,
      hookInstance: crypto.randomUUID(),
      fhirServer: sandbox.baseUrl,
      context: { userId: 'Practitioner/specialist-1', patientId, ...options.context },
      prefetch,
    }),
  });
  const body = (await response.json()) as {
    cards?: { summary: string; source: { topic: { code: string } }; indicator: string }[];
  };
  if (response.status === 200) {
    expect(responseProblems(body)).toEqual([]);
  }
  return {
    status: response.status,
    body,
    cards: (body.cards ?? []).map((card) => `${card.source.topic.code} ${card.indicator}`),
  };
}

/** The Rx View's draft: one MedicationRequest, id request-123, dosed in UCUM {pill}. */
function rxViewDraft(patientId: string): Resource {
  const omeprazole = JSON.parse(
    readFileSync(new URL('../../cds-hooks/examples/orders/omeprazole.json', import.meta.url), 'utf8'),
  ) as { medicationCodeableConcept: unknown };
  return {
    resourceType: 'MedicationRequest',
    id: 'request-123',
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: omeprazole.medicationCodeableConcept,
    dosageInstruction: [
      {
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
        doseAndRate: [
          { doseQuantity: { value: 1, unit: 'pill', system: 'http://unitsofmeasure.org', code: '{pill}' } },
        ],
      },
    ],
  } as Resource;
}

describe('the CDS Hooks Sandbox way of calling, against the sandbox FHIR server (issue 12)', () => {
  it('its POST _search reads are answered like the GET searches, so it never falls back', async () => {
    readsBy.length = 0;
    const template = 'Condition?patient={{context.patientId}}&_count=100';
    const posted = (await sandboxRead(template, 'demo-vd-deficient')) as {
      entry?: { resource: { id: string } }[];
    };
    const got = (await (
      await fetch(`${sandbox.baseUrl}/Condition?patient=demo-vd-deficient&_count=100`)
    ).json()) as { entry?: { resource: { id: string } }[] };
    expect(readsBy).toEqual(['POST']);
    expect(posted.entry?.length).toBeGreaterThan(0);
    expect(posted.entry?.map((entry) => entry.resource.id)).toEqual(
      got.entry?.map((entry) => entry.resource.id),
    );
  });

  it('patient-view with prefetch keys missing: 200, the missing ones read by the service, the expected card', async () => {
    readsBy.length = 0;
    const partial = await callLikeTheSandbox('vitamin-d-back-pain', 'demo-vd-deficient', {
      leaveOut: ['medicationStatements', 'procedures', 'serviceRequests'],
    });
    expect(partial.status).toBe(200);
    expect(partial.cards).toEqual(['VD warning']);
    expect(readsBy.length).toBeGreaterThan(0);
    expect(readsBy.filter((method) => method !== 'READ').every((method) => method === 'POST')).toBe(true);
    const full = await callLikeTheSandbox('vitamin-d-back-pain', 'demo-vd-deficient');
    expect(full.cards).toEqual(partial.cards);
  });

  it('order-select at screen load (empty draft list, nothing selected): 200, no cards', async () => {
    const response = await callLikeTheSandbox('b12-drug-risk-order-select', 'demo-b12-metformin-untested', {
      context: { draftOrders: { resourceType: 'Bundle', entry: [] }, selections: [] },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.cards).toEqual([]);
  });

  it('order-select with the Rx View draft MedicationRequest/request-123 in {pill}: the expected card', async () => {
    const draft = rxViewDraft('demo-b12-metformin-untested');
    const response = await callLikeTheSandbox('b12-drug-risk-order-select', 'demo-b12-metformin-untested', {
      context: {
        draftOrders: { resourceType: 'Bundle', entry: [{ resource: draft }] },
        selections: ['MedicationRequest/request-123'],
      },
      leaveOut: ['medicationStatements'],
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.cards).toEqual(['B12-NEW-DRUG info']);
  });

  it('order-sign with the same draft: 200', async () => {
    const draft = rxViewDraft('demo-b12-metformin-untested');
    const response = await callLikeTheSandbox('b12-drug-risk-order-sign', 'demo-b12-metformin-untested', {
      context: { draftOrders: { resourceType: 'Bundle', entry: [{ resource: draft }] } },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  });
});
