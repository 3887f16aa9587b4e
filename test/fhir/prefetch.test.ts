import type { Observation, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chronicLowBackPain, daysAgo, loinc, observation, patient, vitaminD } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';
import { responseProblems } from '../helpers/card-validator.js';
import { type FakeFhirServer, type Fault, startFakeFhirServer } from '../helpers/fake-fhir-server.js';

const TOKEN = 'secret-access-token-123';
const SERVICE = 'vitamin-d-back-pain';
const painAndLowVitaminD: Resource[] = [
  patient('pt-1'),
  chronicLowBackPain({ id: 'pain-1' }),
  vitaminD(14, daysAgo(20), { id: 'vd-1' }),
];

let fhir: FakeFhirServer;
let app: FastifyInstance;
let templates: Readonly<Record<string, string>>;

beforeAll(async () => {
  fhir = await startFakeFhirServer({ resources: painAndLowVitaminD, token: TOKEN, pageSize: 1 });
  app = await buildTestApp({ env: { FHIR_DEADLINE_MS: '400', FHIR_CACHE_TTL_MS: '0' } });
  templates = (await defaultCatalog()).services.get(SERVICE)!.prefetch;
});
afterAll(async () => {
  await app.close();
  await fhir.close();
});
afterEach(() => {
  fhir.requests.length = 0;
  for (const type of ['Condition', 'Observation', 'Patient', 'MedicationRequest']) {
    fhir.fault(type, undefined);
  }
});

function body(
  options: {
    prefetch?: Record<string, unknown>;
    withServer?: boolean;
    token?: string | null;
    fhirServer?: string;
  } = {},
) {
  const withServer = options.withServer ?? true;
  return {
    hook: 'patient-view',
    hookInstance: '2b6f2bb8-8fe5-4c43-9a2b-1f9e4b3ac2d1',
    context: { userId: 'Practitioner/dr-1', patientId: 'pt-1' },
    ...(withServer ? { fhirServer: options.fhirServer ?? fhir.baseUrl } : {}),
    ...(withServer && options.token !== null
      ? {
          fhirAuthorization: {
            access_token: options.token ?? TOKEN,
            token_type: 'Bearer',
            expires_in: 300,
            scope: 'user/*.read',
            subject: 'cds-service',
          },
        }
      : {}),
    ...(options.prefetch ? { prefetch: options.prefetch } : {}),
  };
}

const call = async (payload: unknown) => {
  const response = await app.inject({
    method: 'POST',
    url: `/cds-services/${SERVICE}`,
    payload: payload as Record<string, unknown>,
  });
  if (response.statusCode === 200) {
    expect(responseProblems(response.json())).toEqual([]);
  }
  return response;
};
const complete = () => prefetchFor(templates, painAndLowVitaminD);
const requestedTypes = () => fhir.requests.map((request) => /\/fhir\/(\w+)/.exec(request.path)?.[1]).sort();

describe('the prefetch matrix', () => {
  it('complete prefetch: no FHIR request at all', async () => {
    const response = await call(body({ prefetch: complete() }));
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(/deficiency/);
    expect(fhir.requests).toEqual([]);
  });

  it('an absent key is fetched, with the bearer token, and only that key', async () => {
    const { conditions: _omitted, ...partial } = complete();
    const response = await call(body({ prefetch: partial }));
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: unknown[] }>().cards).toHaveLength(1);
    expect(requestedTypes()).toEqual(['Condition']);
    expect(fhir.requests.every((request) => request.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(fhir.requests[0]?.path).toBe('/fhir/Condition?patient=pt-1&_count=100');
  });

  it('null means "no data": not fetched, no 412', async () => {
    const response = await call(body({ prefetch: { ...complete(), vitaminD: null }, withServer: false }));
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(/no vitamin D test/);
  });

  it('an empty Bundle means "no data"', async () => {
    const response = await call(
      body({
        prefetch: { ...complete(), vitaminD: { resourceType: 'Bundle', type: 'searchset' } },
        withServer: false,
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(/no vitamin D test/);
  });

  it('an OperationOutcome means "unfulfilled": fetched from the server', async () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const response = await call(body({ prefetch: { ...complete(), vitaminD: outcome } }));
    expect(response.statusCode).toBe(200);
    expect(requestedTypes()).toEqual(['Observation']);
    expect(response.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(/deficiency/);
  });

  it('a Bundle carrying an error OperationOutcome entry is unfulfilled too', async () => {
    const bundle = {
      resourceType: 'Bundle',
      entry: [
        { resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception' }] } },
      ],
    };
    const response = await call(body({ prefetch: { ...complete(), conditions: bundle } }));
    expect(response.statusCode).toBe(200);
    expect(requestedTypes()).toEqual(['Condition']);
  });

  it('a paged prefetch Bundle is followed through its next link', async () => {
    const firstPage = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'next', url: `${fhir.baseUrl}Condition?patient=pt-1&_page=0` }],
      entry: [],
    };
    const response = await call(body({ prefetch: { ...complete(), conditions: firstPage } }));
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: unknown[] }>().cards).toHaveLength(1);
    expect(requestedTypes()).toEqual(['Condition']);
  });

  it('no prefetch at all: every key fetched in parallel, pages followed', async () => {
    const response = await call(body());
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(/deficiency/);
    expect(new Set(requestedTypes())).toEqual(
      new Set([
        'Patient',
        'Condition',
        'Observation',
        'MedicationStatement',
        'MedicationRequest',
        'ServiceRequest',
        'Procedure',
      ]),
    );
  });

  it('fallback fetching gives the same cards as complete prefetch', async () => {
    const fetched = (await call(body())).json<{ cards: unknown[] }>();
    const prefetched = (await call(body({ prefetch: complete(), withServer: false }))).json<{
      cards: unknown[];
    }>();
    expect(fetched).toEqual(prefetched);
  });

  it('412 when a key is missing and there is no fhirServer', async () => {
    const { conditions: _omitted, ...partial } = complete();
    const response = await call(body({ prefetch: partial, withServer: false }));
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(
      /"conditions" and there is no FHIR server to read it from: the request gives no fhirServer/,
    );
  });

  it('412 when nothing was prefetched and there is no fhirServer', async () => {
    const response = await call(body({ withServer: false }));
    expect(response.statusCode).toBe(412);
  });
});

describe('FHIR server faults: always a timely, well-formed answer', () => {
  const faults: Fault[] = [
    'status-500',
    'status-401',
    'status-404',
    'malformed-json',
    'operation-outcome',
    'redirect',
  ];
  it.each(faults)('%s -> 412', async (fault) => {
    fhir.fault('Condition', fault);
    const response = await call(body());
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/"conditions"/);
  });

  it('a wrong token is a 412, not a 500', async () => {
    const response = await call(body({ token: 'wrong' }));
    expect(response.statusCode).toBe(412);
  });

  it('a FHIR server that never answers yields a 412 within the deadline, not a hang', async () => {
    fhir.fault('Observation', 'hang');
    const started = Date.now();
    const response = await call(body());
    const elapsed = Date.now() - started;
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/no answer within 400 ms/);
    // The deadline is 400 ms; the bound only guards against a hang, it is not a speed test.
    expect(elapsed).toBeLessThan(5000);
  });

  it('a connection refused is a 412', async () => {
    const response = await call(body({ fhirServer: 'http://127.0.0.1:9/fhir' }));
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/could not be reached/);
  });
});

describe("the access token goes only to the request's fhirServer", () => {
  it('a next link to another host is refused and that host is never contacted', async () => {
    const elsewhere = await startFakeFhirServer({ resources: [] });
    try {
      const hostile = {
        resourceType: 'Bundle',
        link: [{ relation: 'next', url: `${elsewhere.baseUrl}Condition?patient=pt-1` }],
        entry: [],
      };
      const response = await call(body({ prefetch: { ...complete(), conditions: hostile } }));
      expect(response.statusCode).toBe(412);
      expect(response.json<{ message: string }>().message).toMatch(/outside the FHIR server/);
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('a redirect is not followed', async () => {
    fhir.fault('Condition', 'redirect');
    const response = await call(body());
    expect(response.statusCode).toBe(412);
  });
});

describe('a vitamin D panel that reports its D2 and D3 as components of one Observation', () => {
  const quantity = (value: unknown) => ({
    value,
    unit: 'ng/mL',
    system: 'http://unitsofmeasure.org',
    code: 'ng/mL',
  });
  const panel = (d2: unknown, d3: unknown): Observation => ({
    ...observation('62292-8', undefined, undefined, daysAgo(20), { id: 'vd-panel' }),
    component: [
      { code: { coding: [loinc('49054-0')] }, valueQuantity: quantity(d2) },
      { code: { coding: [loinc('1989-3')] }, valueQuantity: quantity(d3) },
      // A component with no code (a lab's comment line) is not a result, and not an error either.
      { valueString: 'LC-MS/MS' },
    ] as NonNullable<Observation['component']>,
  });
  const withPanel = (vitaminDPanel: Observation) => ({
    ...complete(),
    vitaminD: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: vitaminDPanel }] },
  });

  it('is a result: the fractions are added up, not read as "no vitamin D test"', async () => {
    const response = await call(body({ prefetch: withPanel(panel(6, 8)), withServer: false }));
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(
      /deficiency, 14 ng\/mL/,
    );
  });

  it('with a component value that is not a number: 400 from a client, left out from a server', async () => {
    const malformed = panel('6', 8);
    const prefetched = await call(body({ prefetch: withPanel(malformed), withServer: false }));
    expect(prefetched.statusCode).toBe(400);
    expect(prefetched.json<{ message: string }>().message).toMatch(/component\.0\.valueQuantity\.value/);

    const server = await startFakeFhirServer({ resources: [...painAndLowVitaminD.slice(0, 2), malformed] });
    try {
      const { vitaminD: _read, ...rest } = complete();
      const response = await call(body({ prefetch: rest, fhirServer: server.baseUrl, token: null }));
      expect(response.statusCode).toBe(200);
      expect(response.json<{ cards: { summary: string }[] }>().cards[0]?.summary).toMatch(
        /no vitamin D test/,
      );
    } finally {
      await server.close();
    }
  });
});
