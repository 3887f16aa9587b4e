import { describe, expect, it } from 'vitest';
import { startFhirSandbox } from '../../src/tools/sandbox/fhir-sandbox.js';
import { hasPublicData, loadPublicPatients } from '../../src/tools/sandbox/public-data.js';
import { buildHookRequest, callHook } from '../../src/tools/sandbox/ehr-client.js';
import { buildTestApp } from '../helpers/build-app.js';
import { defineDemoPatientSuite } from './demo-patient-suite.js';

const TOKEN = 'sandbox-integration-token';

defineDemoPatientSuite('demo patients against the sandbox FHIR server', async () => {
  const sandbox = await startFhirSandbox({ token: TOKEN });
  return {
    baseUrl: sandbox.baseUrl,
    token: TOKEN,
    load: (resources) => sandbox.load(resources),
    close: () => sandbox.close(),
  };
});

describe('the sandbox FHIR server', () => {
  it('refuses a missing token, accepts bare patient ids, and pages with next links', async () => {
    const sandbox = await startFhirSandbox({ token: TOKEN });
    try {
      await sandbox.load([
        { resourceType: 'Patient', id: 'p1' },
        ...Array.from({ length: 5 }, (_, index) => ({
          resourceType: 'Condition' as const,
          id: `c${index}`,
          subject: { reference: 'Patient/p1' },
          code: { text: `condition ${index}` },
        })),
      ]);
      expect((await fetch(`${sandbox.baseUrl}/Condition?patient=p1`)).status).toBe(401);
      const headers = { authorization: `Bearer ${TOKEN}` };
      let url: string | undefined = `${sandbox.baseUrl}/Condition?patient=p1&_count=2`;
      const ids: string[] = [];
      while (url) {
        const page = (await (await fetch(url, { headers })).json()) as {
          entry?: { resource: { id: string } }[];
          link?: { relation: string; url: string }[];
        };
        ids.push(...(page.entry ?? []).map((entry) => entry.resource.id));
        url = page.link?.find((link) => link.relation === 'next')?.url;
      }
      expect(ids.sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    } finally {
      await sandbox.close();
    }
  });

  it('answers a transaction', async () => {
    const sandbox = await startFhirSandbox({});
    try {
      const response = await fetch(`${sandbox.baseUrl}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              resource: { resourceType: 'Patient', id: 't1' },
              request: { method: 'PUT', url: 'Patient/t1' },
            },
          ],
        }),
      });
      expect(response.status).toBe(200);
      expect((await fetch(`${sandbox.baseUrl}/Patient/t1`)).status).toBe(200);
    } finally {
      await sandbox.close();
    }
  });
});

describe.skipIf(!hasPublicData)('public Synthea and SMART patients in the sandbox', () => {
  it('load (STU3 converted) and run through every service by FHIR reads without an error', async () => {
    const sandbox = await startFhirSandbox({});
    const app = await buildTestApp({ env: { FHIR_DEADLINE_MS: '20000', FHIR_MAX_PAGES: '200' } });
    try {
      const patients = loadPublicPatients();
      await sandbox.load(patients.flatMap((patient) => patient.resources));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      const serviceUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      let cards = 0;
      for (const patient of patients) {
        for (const serviceId of ['vitamin-d-back-pain', 'b12-drug-risk']) {
          const request = await buildHookRequest({
            serviceUrl,
            serviceId,
            hook: 'patient-view',
            patientId: patient.patientId,
            fhirServer: sandbox.baseUrl,
            withPrefetch: false,
          });
          const { status, body } = await callHook(serviceUrl, serviceId, request);
          expect(status, `${patient.label} ${serviceId}: ${JSON.stringify(body)}`).toBe(200);
          cards += (body as { cards: unknown[] }).cards.length;
        }
      }
      expect(cards).toBeGreaterThan(10);
    } finally {
      await app.close();
      await sandbox.close();
    }
  }, 120_000);
});
