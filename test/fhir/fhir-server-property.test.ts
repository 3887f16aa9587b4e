import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chronicLowBackPain, daysAgo, patient, vitaminD } from '../helpers/builders.js';
import { buildTestApp } from '../helpers/build-app.js';
import { propertyRuns } from '../helpers/property-runs.js';
import { type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';

/**
 * Whatever a FHIR server answers (random JSON, nulls anywhere, wrong types, any status), the service answers
 * 200 or 412, never a 5xx (issue 15 item 9).
 */
let answer: { status: number; body: string } = { status: 200, body: '{}' };
/** When set, answers by URL instead (a server whose reads differ from its searches). */
let answerFor: ((url: string) => unknown) | undefined;
let fhir: ScriptedServer;
let app: FastifyInstance;

beforeAll(async () => {
  fhir = await startScriptedServer((request, response) => {
    response.writeHead(answer.status, { 'content-type': 'application/fhir+json' });
    response.end(answerFor ? JSON.stringify(answerFor(request.url)) : answer.body);
  });
  app = await buildTestApp({ env: { FHIR_CACHE_TTL_MS: '0', FHIR_MAX_PAGES: '2' } });
});
afterAll(async () => {
  await app.close();
  await fhir.close();
});

const SERVICES = ['vitamin-d-back-pain', 'spine-preop-vitamin-d', 'b12-drug-risk'];

async function callWith(serviceId: string, status: number, body: unknown) {
  answer = { status, body: JSON.stringify(body) };
  return app.inject({
    method: 'POST',
    url: `/cds-services/${serviceId}`,
    payload: {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      fhirServer: `${fhir.origin}/fhir`,
      context: { userId: 'Practitioner/1', patientId: 'pt-1' },
    },
  });
}

/** A plausible searchset, with a value somewhere replaced by `replacement` (null, a wrong type, anything). */
const validBundle = {
  resourceType: 'Bundle',
  type: 'searchset',
  link: [{ relation: 'self', url: 'http://x/fhir/Condition' }],
  entry: [
    { resource: patient('pt-1') },
    { resource: chronicLowBackPain({ id: 'c1' }) },
    { resource: vitaminD(14, daysAgo(20), { id: 'o1' }) },
    {
      resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'informational' }] },
    },
  ],
};

/** Every path to a value inside `value`, so one can be replaced. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) {
    return [prefix];
  }
  const children = Array.isArray(value)
    ? value.map((item, index) => paths(item, [...prefix, index]))
    : Object.entries(value).map(([key, item]) => paths(item, [...prefix, key]));
  return [prefix, ...children.flat()];
}
const ALL_PATHS = paths(validBundle);

function replaceAt(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) {
    return replacement;
  }
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head as string] = replaceAt(copy[head as string], rest, replacement);
  return copy;
}

const oddValue = fc.oneof(
  fc.constant(null),
  fc.constant([null]),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string(),
  fc.integer(),
  fc.boolean(),
);

// Full run counts (CI) take 10-25 s on a shared 2-core machine: a generous bound, still a bound.
describe('property: no FHIR server answer makes the service fail', { timeout: 90_000 }, () => {
  it('random JSON with any status', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SERVICES),
        fc.constantFrom(200, 200, 200, 201, 400, 404, 410, 500),
        fc.jsonValue({ maxDepth: 4 }),
        async (serviceId, status, body) => {
          const response = await callWith(serviceId, status, body);
          expect([200, 412]).toContain(response.statusCode);
        },
      ),
      { numRuns: propertyRuns(300) },
    );
  }, 120_000);

  it('a valid Bundle with one value anywhere replaced by null, a wrong type or anything', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SERVICES),
        fc.constantFrom(...ALL_PATHS),
        oddValue,
        async (serviceId, path, replacement) => {
          const response = await callWith(serviceId, 200, replaceAt(validBundle, path, replacement));
          expect([200, 412]).toContain(response.statusCode);
        },
      ),
      { numRuns: propertyRuns(600) },
    );
  }, 120_000);

  it('a referenced Medication read on its own with malformed codings: dropped, not a 500', async () => {
    answerFor = (url) =>
      url.includes('/Medication/med-odd')
        ? { resourceType: 'Medication', id: 'med-odd', code: { coding: [null] } }
        : url.includes('/MedicationRequest?')
          ? {
              ...validBundle,
              entry: [
                {
                  resource: {
                    resourceType: 'MedicationRequest',
                    id: 'rx-1',
                    status: 'active',
                    intent: 'order',
                    subject: { reference: 'Patient/pt-1' },
                    medicationReference: { reference: 'Medication/med-odd' },
                  },
                },
              ],
            }
          : validBundle;
    try {
      for (const serviceId of SERVICES) {
        const response = await callWith(serviceId, 200, {});
        expect(response.statusCode, serviceId).toBe(200);
      }
    } finally {
      answerFor = undefined;
    }
  });

  it('a result whose id is not a string, in every search: dropped, not a 500 (a full property run found it)', async () => {
    const withBadId = replaceAt(validBundle, ['entry', 2, 'resource', 'id'], [null]);
    for (const serviceId of SERVICES) {
      const response = await callWith(serviceId, 200, withBadId);
      expect(response.statusCode, serviceId).toBe(200);
    }
  });

  it.each([
    ['null in Bundle.link', { ...validBundle, link: [null] }],
    ['null in OperationOutcome.issue', { resourceType: 'OperationOutcome', issue: [null] }],
    ['issue as an object', { resourceType: 'OperationOutcome', issue: { severity: 'error' } }],
    ['entry as a string', { ...validBundle, entry: 'x' }],
    ['link as a number', { ...validBundle, link: 7 }],
    ['a resourceType that is not a string', { resourceType: 5 }],
    ['an array', [validBundle]],
  ])('%s: 412', async (_name, body) => {
    for (const serviceId of SERVICES) {
      const response = await callWith(serviceId, 200, body);
      expect(response.statusCode, serviceId).toBe(412);
    }
  });
});
