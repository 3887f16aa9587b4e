import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoPatient, loadDemoPatients } from '../../src/tools/sandbox/demo-patients.js';
import { buildHookRequest, callHook } from '../../src/tools/sandbox/ehr-client.js';
import { buildTestApp } from '../helpers/build-app.js';
import { NOW } from '../helpers/builders.js';
import { responseProblems } from '../helpers/card-validator.js';

export interface FhirServerUnderTest {
  readonly baseUrl: string;
  readonly token: string | undefined;
  load(resources: readonly Resource[]): Promise<void>;
  close(): Promise<void>;
}

const SERVICES = ['vitamin-d-back-pain', 'spine-preop-vitamin-d', 'b12-drug-risk'] as const;
const order = (file: string): Resource =>
  JSON.parse(
    readFileSync(new URL(`../../cds-hooks/examples/orders/${file}`, import.meta.url), 'utf8'),
  ) as Resource;

/** What a card says, without the per-call uuids. */
function essence(body: unknown): string[] {
  const { cards } = body as {
    cards: {
      indicator: string;
      summary: string;
      source: { topic: { code: string } };
      suggestions?: { label: string }[];
    }[];
  };
  return cards.map(
    (card) =>
      `${card.source.topic.code} ${card.indicator}: ${card.summary} [${(card.suggestions ?? []).map((s) => s.label).join('; ')}]`,
  );
}

const ORDER_CASES = [
  {
    patient: 'demo-b12-metformin-untested',
    serviceId: 'b12-drug-risk',
    hook: 'order-sign',
    orders: ['folic-acid.json'],
    expected: ['FOLIC-ACID warning'],
  },
  {
    patient: 'demo-b12-metformin-untested',
    serviceId: 'b12-drug-risk',
    hook: 'order-select',
    orders: ['omeprazole.json'],
    expected: ['B12-NEW-DRUG info'],
  },
  {
    patient: 'demo-vd-untested',
    serviceId: 'spine-preop-vitamin-d',
    hook: 'order-select',
    orders: ['lumbar-fusion.json'],
    expected: ['SP warning'],
  },
  {
    patient: 'demo-sp-ready',
    serviceId: 'spine-preop-vitamin-d',
    hook: 'order-sign',
    orders: ['lumbar-fusion.json'],
    expected: [],
  },
] as const;

/**
 * Every demo patient through every service against a real FHIR server over HTTP, once with no prefetch (the
 * service reads FHIR with the bearer token) and once with prefetch the EHR computed from the same server.
 */
export function defineDemoPatientSuite(name: string, startServer: () => Promise<FhirServerUnderTest>): void {
  describe(name, () => {
    let fhir: FhirServerUnderTest;
    let app: FastifyInstance;
    let serviceUrl: string;
    const patients: DemoPatient[] = loadDemoPatients(NOW);

    beforeAll(async () => {
      fhir = await startServer();
      await fhir.load(patients.flatMap((patient) => patient.resources));
      app = await buildTestApp({ env: { FHIR_DEADLINE_MS: '10000' } });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      serviceUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    }, 120_000);
    afterAll(async () => {
      await app.close();
      await fhir.close();
    });

    async function run(
      serviceId: string,
      hook: 'patient-view' | 'order-select' | 'order-sign',
      patientId: string,
      withPrefetch: boolean,
      orders: Resource[] = [],
    ) {
      const request = await buildHookRequest({
        serviceUrl,
        serviceId,
        hook,
        patientId,
        fhirServer: fhir.baseUrl,
        accessToken: fhir.token,
        orders,
        withPrefetch,
      });
      if (!withPrefetch) {
        expect(request['prefetch']).toBeUndefined();
      }
      const { status, body } = await callHook(serviceUrl, serviceId, request);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(responseProblems(body)).toEqual([]);
      return essence(body);
    }

    it('serves the FHIR capability statement', async () => {
      const response = await fetch(`${fhir.baseUrl}/metadata`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { resourceType: string }).resourceType).toBe('CapabilityStatement');
    });

    it.each(patients.map((patient) => [patient.id, patient] as const))(
      '%s: the expected cards, the same with and without prefetch',
      async (_id, patient) => {
        for (const serviceId of SERVICES) {
          const fetched = await run(serviceId, 'patient-view', patient.id, false);
          const prefetched = await run(serviceId, 'patient-view', patient.id, true);
          expect(fetched, serviceId).toEqual(prefetched);
          expect(
            fetched.map((card) => card.slice(0, card.indexOf(':'))),
            serviceId,
          ).toEqual(patient.expected[serviceId] ?? []);
        }
      },
    );

    it.each(ORDER_CASES)(
      '$serviceId $hook for $patient with $orders',
      async ({ patient, serviceId, hook, orders, expected }) => {
        const drafts = orders.map(
          (file) => ({ ...order(file), subject: { reference: `Patient/${patient}` } }) as Resource,
        );
        const fetched = await run(serviceId, hook, patient, false, drafts);
        const prefetched = await run(serviceId, hook, patient, true, drafts);
        expect(fetched).toEqual(prefetched);
        expect(fetched.map((card) => card.slice(0, card.indexOf(':')))).toEqual(expected);
      },
    );
  });
}
