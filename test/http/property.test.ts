import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chronicLowBackPain,
  daysAgo,
  LUMBAR_FUSION,
  METFORMIN,
  medicationRequest,
  serviceRequest,
  vitaminD,
} from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';
import { propertyRuns } from '../helpers/property-runs.js';

/**
 * Whatever arrives, the service answers: never a 5xx, never a crash, a JSON error body for every 4xx, and
 * every 200 passes the card validator (the test app checks each one it sends).
 */
let app: FastifyInstance;
const SERVICES = ['vitamin-d-back-pain', 'spine-preop-vitamin-d', 'b12-drug-risk'];

beforeAll(async () => {
  app = await buildTestApp({ env: { RATE_LIMIT_MAX: '100000000' } });
});
afterAll(async () => {
  await app.close();
});

async function expectWellFormed(response: Awaited<ReturnType<FastifyInstance['inject']>>): Promise<void> {
  expect(response.statusCode, response.body.slice(0, 300)).toBeLessThan(500);
  if (response.statusCode >= 400) {
    const body = response.json<{ message?: unknown; statusCode?: unknown }>();
    expect(typeof body.message).toBe('string');
    expect(body.statusCode).toBe(response.statusCode);
  }
}

const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uFFFF',
    '💊',
    'ng/ml',
    'nmol/l',
    'µg/L',
    '<5',
    '>=',
    'NaN',
    '__proto__',
    'constructor',
    '../../etc/passwd',
    'Patient/../x',
  ),
  fc.string({ minLength: 5000, maxLength: 20000 }),
);
const oddDate = fc.oneof(
  fc
    .date({ noInvalidDate: true, min: new Date('1900-01-01'), max: new Date('2100-01-01') })
    .map((date) => date.toISOString()),
  fc.constantFrom(
    '2024',
    '2024-05',
    '2024-13-01',
    '2024-02-30',
    '2024-05-01T25:61:00Z',
    'yesterday',
    '',
    '0000-00-00',
    '9999-12-31T23:59:59+14:00',
  ),
  oddString,
);
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  oddString,
  fc.constant(null),
  fc.constant(undefined),
);

const observationArb = fc.record(
  {
    resourceType: fc.constant('Observation'),
    id: fc.oneof(fc.uuid(), oddString),
    status: fc.oneof(
      fc.constantFrom('final', 'amended', 'preliminary', 'entered-in-error', 'cancelled'),
      oddString,
    ),
    code: fc.record({
      coding: fc.array(
        fc.record({
          system: fc.constantFrom('http://loinc.org', 'urn:x'),
          code: fc.constantFrom(
            '62292-8',
            '1989-3',
            '14635-7',
            '2132-9',
            '14685-2',
            '72160-5',
            '16695-9',
            'x',
          ),
        }),
      ),
    }),
    effectiveDateTime: oddDate,
    issued: oddDate,
    valueQuantity: fc.record(
      {
        value: fc.oneof(fc.double(), fc.integer()),
        unit: oddString,
        code: oddString,
        comparator: fc.constantFrom('<', '<=', '>', '>=', 'ad'),
      },
      { requiredKeys: [] },
    ),
    valueString: oddString,
  },
  { requiredKeys: ['resourceType', 'status', 'code'] },
);
const conditionArb = fc.record(
  {
    resourceType: fc.constant('Condition'),
    code: fc.record(
      {
        coding: fc.array(
          fc.record({
            system: fc.constantFrom('http://snomed.info/sct', 'http://hl7.org/fhir/sid/icd-10-cm'),
            code: fc.oneof(
              fc.constantFrom('278860009', '279039007', 'M54.50', 'm5450', 'G89.29', '302226006'),
              oddString,
            ),
          }),
        ),
        text: oddString,
      },
      { requiredKeys: [] },
    ),
    clinicalStatus: fc.record({
      coding: fc.array(
        fc.record({ code: fc.oneof(fc.constantFrom('active', 'resolved', 'relapse'), oddString) }),
      ),
    }),
    onsetDateTime: oddDate,
    recordedDate: oddDate,
  },
  { requiredKeys: ['resourceType'] },
);
const medicationArb = fc.record(
  {
    resourceType: fc.constantFrom('MedicationRequest', 'MedicationStatement'),
    id: fc.uuid(),
    status: fc.oneof(fc.constantFrom('active', 'on-hold', 'completed', 'stopped', 'intended'), oddString),
    medicationCodeableConcept: fc.record(
      {
        text: fc.oneof(
          fc.constantFrom('metformin 500 mg', 'Omeprazole', 'folic acid', 'cyanocobalamin', 'ergocalciferol'),
          oddString,
        ),
        coding: fc.array(
          fc.record({
            system: fc.constant('http://www.nlm.nih.gov/research/umls/rxnorm'),
            code: fc.constantFrom('860975', '198051', '310410', '309594', '1367410', 'x'),
          }),
        ),
      },
      { requiredKeys: [] },
    ),
    medicationReference: fc.record({ reference: oddString, display: oddString }, { requiredKeys: [] }),
    authoredOn: oddDate,
    effectivePeriod: fc.record({ start: oddDate, end: oddDate }, { requiredKeys: [] }),
    intent: fc.constant('order'),
  },
  { requiredKeys: ['resourceType', 'status'] },
);
const surgeryArb = fc.record({
  resourceType: fc.constantFrom('ServiceRequest', 'Procedure'),
  id: fc.uuid(),
  status: fc.oneof(fc.constantFrom('active', 'draft', 'preparation', 'completed', 'revoked'), oddString),
  code: fc.record({
    coding: fc.array(
      fc.record({
        system: fc.constantFrom('http://snomed.info/sct', 'http://www.ama-assn.org/go/cpt'),
        code: fc.oneof(fc.constantFrom('50172003', '22612', '63047', '99999'), oddString),
      }),
    ),
  }),
  occurrenceDateTime: oddDate,
  performedDateTime: oddDate,
  intent: fc.constant('order'),
});
const resourceArb = fc.oneof(
  observationArb,
  conditionArb,
  medicationArb,
  surgeryArb,
  fc.jsonValue({ maxDepth: 2 }),
);

async function validBody(serviceId: string, hook: string) {
  const templates = (await defaultCatalog()).services.get(serviceId)!.prefetch;
  const fusion = serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'f1' });
  return {
    hook,
    hookInstance: 'a1b2c3d4-0000-4000-8000-000000000000',
    context: {
      userId: 'Practitioner/1',
      patientId: 'pt-1',
      ...(hook === 'patient-view'
        ? {}
        : { draftOrders: { resourceType: 'Bundle', entry: [{ resource: fusion }] } }),
      ...(hook === 'order-select' ? { selections: ['ServiceRequest/f1'] } : {}),
    },
    prefetch: prefetchFor(templates, [
      chronicLowBackPain(),
      vitaminD(14, daysAgo(3)),
      medicationRequest(METFORMIN),
    ]),
  };
}

/** Every path in a JSON value, for mutation. */
function paths(
  value: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) {
    value.forEach((item, index) => paths(item, [...prefix, index], out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      paths(item, [...prefix, key], out);
    }
  }
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) {
    return value;
  }
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    node = node[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1] ?? '';
  // Setting a field to undefined drops it from the JSON body: the "missing field" mutation.
  node[last] = value;
  return copy;
}

function post(url: string, payload: unknown) {
  // A body mutated to undefined is sent empty (JSON.stringify would give undefined).
  const text = payload === undefined ? '' : JSON.stringify(payload);
  return app.inject({ method: 'POST', url, payload: text, headers: { 'content-type': 'application/json' } });
}

// Full run counts (CI) take 10-25 s on a shared 2-core machine: a generous bound, still a bound.
describe('property: no input makes the service fail', { timeout: 90_000 }, () => {
  it('any JSON value as the body of any endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ...SERVICES.map((id) => `/cds-services/${id}`),
          ...SERVICES.map((id) => `/cds-services/${id}/feedback`),
          '/cds-services/unknown',
        ),
        fc.jsonValue(),
        async (url, body) => {
          await expectWellFormed(await post(url, body));
        },
      ),
      { numRuns: propertyRuns(400) },
    );
  });

  it('valid requests with one field replaced by anything', async () => {
    const bases = await Promise.all(
      [
        ['vitamin-d-back-pain', 'patient-view'],
        ['spine-preop-vitamin-d', 'order-select'],
        ['spine-preop-vitamin-d', 'order-sign'],
        ['b12-drug-risk', 'order-sign'],
        ['b12-drug-risk', 'patient-view'],
      ].map(async ([id, hook]) => ({ id: id ?? '', body: await validBody(id ?? '', hook ?? '') })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...bases), fc.nat(), anyValue, async ({ id, body }, pick, value) => {
        const all = paths(body);
        await expectWellFormed(
          await post(`/cds-services/${id}`, setAt(body, all[pick % all.length] ?? [], value)),
        );
      }),
      { numRuns: propertyRuns(1500) },
    );
  });

  it('prefetch full of odd FHIR: dates, units, codes and statuses of every shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SERVICES),
        fc.array(resourceArb, { maxLength: 12 }),
        async (id, resources) => {
          const body = await validBody(id, 'patient-view');
          const bundle = { resourceType: 'Bundle', entry: resources.map((resource) => ({ resource })) };
          const prefetch = Object.fromEntries(
            Object.keys(body.prefetch).map((key) => [key, key === 'patient' ? body.prefetch[key] : bundle]),
          );
          await expectWellFormed(await post(`/cds-services/${id}`, { ...body, prefetch }));
        },
      ),
      { numRuns: propertyRuns(800) },
    );
  });

  it('prefetch of the wrong resource type, deep nesting and huge strings', async () => {
    const deep = (depth: number): unknown => (depth === 0 ? 'x' : { a: [deep(depth - 1)] });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SERVICES),
        fc.constantFrom('Patient', 'Bundle', 'OperationOutcome', 'Observation', 'x', ''),
        fc.integer({ min: 0, max: 400 }),
        oddString,
        async (id, type, depth, text) => {
          const body = await validBody(id, 'patient-view');
          const key = Object.keys(body.prefetch)[depth % Object.keys(body.prefetch).length] ?? 'patient';
          const prefetch = {
            ...body.prefetch,
            [key]: { resourceType: type, id: text, nested: deep(depth), text },
          };
          await expectWellFormed(
            await post(`/cds-services/${id}`, { ...body, prefetch, extension: { deep: deep(depth) } }),
          );
        },
      ),
      { numRuns: propertyRuns(300) },
    );
  });

  it('odd URLs and methods', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.webPath(),
        async (method, path) => {
          const response = await app.inject({
            method: method as 'GET',
            url: path.startsWith('/') ? path : `/${path}`,
          });
          expect(response.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: propertyRuns(300) },
    );
  });
});
