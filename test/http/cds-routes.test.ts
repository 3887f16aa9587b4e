import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chronicLowBackPain,
  draftOrders,
  FOLIC_ACID,
  LUMBAR_FUSION,
  METFORMIN,
  medicationRequest,
  monthsAgo,
  serviceRequest,
} from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
});

const HOOK_INSTANCE = '9a3e0f7e-0b1c-4d5e-8f9a-1b2c3d4e5f60';

async function prefetch(serviceId: string, resources: readonly Resource[] = [chronicLowBackPain()]) {
  const service = (await defaultCatalog()).services.get(serviceId)!;
  return prefetchFor(service.prefetch, resources);
}

async function patientViewBody(serviceId = 'vitamin-d-back-pain') {
  return {
    hook: 'patient-view',
    hookInstance: HOOK_INSTANCE,
    context: { userId: 'Practitioner/dr-1', patientId: 'pt-1' },
    prefetch: await prefetch(serviceId),
  };
}

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });

/** A 2.0 prefetch template: relative, only allowed tokens, FHIR-valid sort. */
function templateProblems(template: string): string[] {
  const problems: string[] = [];
  if (!/^[A-Z][A-Za-z]+(\/|\?)/.test(template)) {
    problems.push('not a relative FHIR read or search');
  }
  for (const [, token] of template.matchAll(/\{\{([^}]*)\}\}/g)) {
    if (
      !/^(context\.(patientId|userId|encounterId)|user(Practitioner|PractitionerRole|Patient|RelatedPerson)Id)$/.test(
        token ?? '',
      )
    ) {
      problems.push(`token ${token ?? ''} is not a 2.0 prefetch token`);
    }
  }
  if (/Practitioner\/\{\{context\.userId\}\}/.test(template)) {
    problems.push('userId is already Type/id');
  }
  if (/sort:desc/.test(template)) {
    problems.push('sort:desc is not FHIR');
  }
  return problems;
}

describe('discovery', () => {
  it('gives every entry its own id, one hook each (clients key services by id)', async () => {
    const response = await app.inject({ method: 'GET', url: '/cds-services' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const { services } = response.json<{
      services: {
        id: string;
        hook: string;
        description: string;
        title: string;
        prefetch: Record<string, string>;
      }[];
    }>();
    expect(services.map((service) => `${service.id} ${service.hook}`).sort()).toEqual([
      'b12-drug-risk patient-view',
      'b12-drug-risk-order-select order-select',
      'b12-drug-risk-order-sign order-sign',
      'spine-preop-vitamin-d patient-view',
      'spine-preop-vitamin-d-order-select order-select',
      'spine-preop-vitamin-d-order-sign order-sign',
      'vitamin-d-back-pain patient-view',
    ]);
    expect(new Set(services.map((service) => service.id)).size).toBe(services.length);
    for (const service of services) {
      expect(service.description.length).toBeGreaterThan(10);
      expect(service.title.length).toBeGreaterThan(5);
      expect(Object.keys(service.prefetch)).toContain('patient');
      for (const template of Object.values(service.prefetch)) {
        expect(templateProblems(template)).toEqual([]);
      }
    }
  });

  it('asks each service for exactly the data its rules read', async () => {
    const response = await app.inject({ method: 'GET', url: '/cds-services' });
    const byId = new Map(
      response
        .json<{ services: { id: string; prefetch: Record<string, string> }[] }>()
        .services.map((s) => [s.id, Object.keys(s.prefetch).sort()]),
    );
    expect(byId.get('vitamin-d-back-pain')).toEqual([
      'calcium',
      'conditions',
      'medicationRequests',
      'medicationStatements',
      'patient',
      'procedures',
      'serviceRequests',
      'vitaminD',
    ]);
    expect(byId.get('b12-drug-risk')).toEqual([
      'b12',
      'conditions',
      'medicationRequests',
      'medicationStatements',
      'patient',
      'serviceRequests',
    ]);
  });
});

describe('calling a service: what is refused, and how', () => {
  it('answers a valid call with cards', async () => {
    const response = await post('/cds-services/vitamin-d-back-pain', await patientViewBody());
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: unknown[] }>().cards).toHaveLength(1);
  });

  it('accepts application/fhir+json and a charset', async () => {
    const body = JSON.stringify(await patientViewBody());
    for (const type of ['application/fhir+json', 'application/json; charset=utf-8']) {
      const response = await app.inject({
        method: 'POST',
        url: '/cds-services/vitamin-d-back-pain',
        payload: body,
        headers: { 'content-type': type },
      });
      expect(response.statusCode, type).toBe(200);
    }
  });

  const badRequests: { name: string; body: () => Promise<unknown>; message: RegExp }[] = [
    {
      name: 'missing hook',
      body: async () => ({ ...(await patientViewBody()), hook: undefined }),
      message: /body\.hook: is required/,
    },
    {
      name: 'missing hookInstance',
      body: async () => ({ ...(await patientViewBody()), hookInstance: undefined }),
      message: /body\.hookInstance: is required/,
    },
    {
      name: 'missing context',
      body: async () => ({ ...(await patientViewBody()), context: undefined }),
      message: /body\.context: is required/,
    },
    {
      name: 'hook of the wrong type',
      body: async () => ({ ...(await patientViewBody()), hook: 42 }),
      message: /body\.hook/,
    },
    {
      name: 'a hook the service does not serve',
      body: async () => ({ ...(await patientViewBody()), hook: 'order-sign' }),
      message: /does not serve hook "order-sign"/,
    },
    {
      name: 'an unknown hook',
      body: async () => ({ ...(await patientViewBody()), hook: 'encounter-discharge' }),
      message: /does not serve hook "encounter-discharge"/,
    },
    {
      name: 'missing context.patientId',
      body: async () => ({ ...(await patientViewBody()), context: { userId: 'Practitioner/1' } }),
      message: /context\.patientId: is required/,
    },
    {
      name: 'missing context.userId',
      body: async () => ({ ...(await patientViewBody()), context: { patientId: 'pt-1' } }),
      message: /context\.userId: is required/,
    },
    {
      name: 'a patientId that is not a FHIR id',
      body: async () => ({
        ...(await patientViewBody()),
        context: { userId: 'Practitioner/1', patientId: '../Patient?x=1' },
      }),
      message: /context\.patientId: must be a FHIR id/,
    },
    {
      name: 'fhirAuthorization without fhirServer',
      body: async () => ({
        ...(await patientViewBody()),
        fhirAuthorization: { access_token: 'abc', token_type: 'Bearer' },
      }),
      message: /fhirServer is required when fhirAuthorization is present/,
    },
    {
      name: 'a prefetch value that is not a resource',
      body: async () => ({ ...(await patientViewBody()), prefetch: { conditions: 'nope' } }),
      message: /prefetch\.conditions must be a FHIR resource, a Bundle or null/,
    },
    {
      name: 'a prefetch of the wrong resource type',
      body: async () => ({
        ...(await patientViewBody()),
        prefetch: {
          ...(await prefetch('vitamin-d-back-pain')),
          conditions: { resourceType: 'Patient', id: 'x' },
        },
      }),
      message: /prefetch\.conditions has resourceType "Patient"; expected a Bundle of Condition/,
    },
    {
      name: 'an Observation without a code in prefetch',
      body: async () => ({
        ...(await patientViewBody()),
        prefetch: {
          ...(await prefetch('vitamin-d-back-pain')),
          vitaminD: {
            resourceType: 'Bundle',
            entry: [{ resource: { resourceType: 'Observation', status: 'final' } }],
          },
        },
      }),
      message: /prefetch\.vitaminD resource 0 \(Observation\) is not valid: code/,
    },
    {
      name: 'a resource id that is not a string',
      body: async () => ({
        ...(await patientViewBody()),
        prefetch: {
          ...(await prefetch('vitamin-d-back-pain')),
          vitaminD: {
            resourceType: 'Bundle',
            entry: [{ resource: { resourceType: 'Observation', id: 7, status: 'final', code: {} } }],
          },
        },
      }),
      message: /prefetch\.vitaminD resource 0 \(Observation\) is not valid: id/,
    },
    {
      name: 'a DiagnosticReport whose result list is not references',
      body: async () => ({
        ...(await patientViewBody()),
        prefetch: {
          ...(await prefetch('vitamin-d-back-pain')),
          vitaminD: {
            resourceType: 'Bundle',
            entry: [{ resource: { resourceType: 'DiagnosticReport', id: 'r', result: [{ reference: 5 }] } }],
          },
        },
      }),
      message: /prefetch\.vitaminD resource 0 \(DiagnosticReport\) is not valid: result/,
    },
  ];

  it.each(badRequests)('400 for $name, with a useful message', async ({ body, message }) => {
    const response = await post('/cds-services/vitamin-d-back-pain', await body());
    expect(response.statusCode).toBe(400);
    const json = response.json<{ message: string; code: string; requestId: string }>();
    expect(json.message).toMatch(message);
    expect(json.code).toBe('CDS_BAD_REQUEST');
    expect(json.requestId).toBeTruthy();
  });

  it('400 for malformed JSON', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      payload: '{"hook": "patient-view",',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toMatch(/JSON/i);
  });

  it('400 for an empty body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      payload: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(400);
  });

  it.each([
    ['application/json', '{"hook": "patient-view", "__proto__": {"polluted": true}}', '__proto__'],
    ['application/fhir+json', '{"hook": "patient-view", "__proto__": {"polluted": true}}', '__proto__'],
    [
      'application/fhir+json',
      '{"hook": "patient-view", "prefetch": {"x": [{"constructor": {"prototype": {"polluted": true}}}]}}',
      'constructor.prototype',
    ],
  ])('400 naming the forbidden key, not "not valid JSON" (%s, %s)', async (type, payload, key) => {
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      payload,
      headers: { 'content-type': type },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'CDS_FORBIDDEN_KEY',
      message: `The body contains a forbidden key \`${key}\``,
    });
  });

  it.each([
    [
      'not JSON',
      '{"hook": "patient-view",',
      "Body is not valid JSON but content-type is set to 'application/fhir+json'",
    ],
    ['empty', '', "The body is empty but content-type is set to 'application/fhir+json'"],
  ])(
    '400 for an application/fhir+json body that is %s names that content type',
    async (_name, payload, message) => {
      const response = await app.inject({
        method: 'POST',
        url: '/cds-services/vitamin-d-back-pain',
        payload,
        headers: { 'content-type': 'application/fhir+json' },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toBe(message);
    },
  );

  it('415 for a text/plain body, even one holding JSON (Fastify would read it as a string)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      payload: JSON.stringify(await patientViewBody()),
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.statusCode).toBe(415);
    expect(response.json<{ code: string }>().code).toBe('FST_ERR_CTP_INVALID_MEDIA_TYPE');
  });

  it('404 for an unknown service id, whatever the body', async () => {
    for (const body of [await patientViewBody(), {}]) {
      const response = await post('/cds-services/no-such-service', body);
      expect(response.statusCode).toBe(404);
      expect(response.json<{ message: string }>().message).toMatch(/no-such-service/);
    }
  });

  it('413 for a 12 MiB body', async () => {
    const body = await patientViewBody();
    const padding = 'x'.repeat(12 * 1024 * 1024);
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      payload: JSON.stringify({ ...body, extension: { 'org.example.padding': padding } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json<{ code: string }>().code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
  });

  describe('order hooks', () => {
    const fusion = serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'fusion-1' });
    const orderBody = async (hook: string, context: Record<string, unknown>) => ({
      hook,
      hookInstance: HOOK_INSTANCE,
      context: { userId: 'Practitioner/dr-1', patientId: 'pt-1', ...context },
      prefetch: await prefetch('spine-preop-vitamin-d', []),
    });

    it('accepts draftOrders without Bundle.type, and with it', async () => {
      for (const drafts of [draftOrders(fusion), { ...draftOrders(fusion), type: 'collection' }]) {
        const response = await post(
          '/cds-services/spine-preop-vitamin-d',
          await orderBody('order-sign', { draftOrders: drafts }),
        );
        expect(response.statusCode).toBe(200);
        expect(response.json<{ cards: unknown[] }>().cards).toHaveLength(1);
      }
    });

    it('400 with a clear message when order-select is re-fired without draftOrders', async () => {
      const response = await post(
        '/cds-services/spine-preop-vitamin-d',
        await orderBody('order-select', { selections: ['ServiceRequest/fusion-1'] }),
      );
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toMatch(
        /context\.draftOrders is required for order-select/,
      );
    });

    it('400 when order-select has no selections', async () => {
      const response = await post(
        '/cds-services/spine-preop-vitamin-d',
        await orderBody('order-select', { draftOrders: draftOrders(fusion) }),
      );
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toMatch(/context\.selections: is required/);
    });

    it('400 when a selection is not Type/id', async () => {
      const response = await post(
        '/cds-services/spine-preop-vitamin-d',
        await orderBody('order-select', { draftOrders: draftOrders(fusion), selections: ['fusion-1'] }),
      );
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toMatch(/Type\/id/);
    });

    it('400 when a selection is not among the draft orders', async () => {
      const response = await post(
        '/cds-services/spine-preop-vitamin-d',
        await orderBody('order-select', {
          draftOrders: draftOrders(fusion),
          selections: ['ServiceRequest/other'],
        }),
      );
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toMatch(
        /"ServiceRequest\/other"\) is not among context\.draftOrders/,
      );
    });

    it('400 when order-sign is missing draftOrders', async () => {
      const response = await post('/cds-services/spine-preop-vitamin-d', await orderBody('order-sign', {}));
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toMatch(/context\.draftOrders: is required/);
    });

    it('400 when draftOrders is not a Bundle', async () => {
      const response = await post(
        '/cds-services/spine-preop-vitamin-d',
        await orderBody('order-sign', { draftOrders: [fusion] }),
      );
      expect(response.statusCode).toBe(400);
    });
  });
});

describe('one id per discovery entry', () => {
  const folicDraft = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' });
  const metformin = medicationRequest(METFORMIN, { authoredOn: monthsAgo(30) });
  const orderSign = async () => ({
    hook: 'order-sign',
    hookInstance: crypto.randomUUID(),
    context: {
      userId: 'Practitioner/dr-1',
      patientId: 'pt-1',
      draftOrders: draftOrders(folicDraft),
    },
    prefetch: await prefetch('b12-drug-risk', [metformin]),
  });

  it("answers each entry's own hook at its URL, and refuses the others with the id to call", async () => {
    expect((await post('/cds-services/b12-drug-risk-order-sign', await orderSign())).statusCode).toBe(200);
    const wrongHook = await post(
      '/cds-services/b12-drug-risk-order-sign',
      await patientViewBody('b12-drug-risk'),
    );
    expect(wrongHook.statusCode).toBe(400);
    expect(wrongHook.json<{ message: string }>().message).toMatch(
      /"b12-drug-risk-order-sign" answers order-sign; discovery lists patient-view as "b12-drug-risk"/,
    );
    const orderSelectAtSign = await post('/cds-services/spine-preop-vitamin-d-order-select', {
      ...(await orderSign()),
      prefetch: await prefetch('spine-preop-vitamin-d', []),
    });
    expect(orderSelectAtSign.statusCode).toBe(400);
  });

  it("keeps dispatching on body.hook at a service's own id, as configured EHRs call it", async () => {
    const response = await post('/cds-services/b12-drug-risk', await orderSign());
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: unknown[] }>().cards).toHaveLength(1);
  });

  it('records cards, feedback and analytics under the id of the entry the card came from', async () => {
    const local = await buildTestApp();
    try {
      const send = async (url: string) => {
        const response = await local.inject({ method: 'POST', url, payload: await orderSign() });
        const [card] = response.json<{ cards: { uuid: string }[] }>().cards;
        const feedback = await local.inject({
          method: 'POST',
          url: `${url}/feedback`,
          payload: {
            feedback: [{ card: card!.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-22T10:05:31Z' }],
          },
        });
        expect(feedback.json()).toEqual({ received: 1, stored: 1, unknownCards: 0 });
      };
      await send('/cds-services/b12-drug-risk-order-sign');
      await send('/cds-services/b12-drug-risk');
      const analytics = await local.inject({
        method: 'GET',
        url: '/analytics/cards?from=2000-01-01&to=2100-01-01',
      });
      expect(analytics.json<{ rules: unknown[] }>().rules).toEqual([
        {
          serviceId: 'b12-drug-risk-order-sign',
          ruleId: 'FOLIC-ACID',
          shown: 2,
          accepted: 0,
          overridden: 2,
          overrideReasons: { none: 2 },
        },
      ]);
    } finally {
      await local.close();
    }
  });
});

describe('feedback', () => {
  const item = {
    card: 'c3a1b7b2-1111-4c1e-9a57-6f4a3c1b2e90',
    outcome: 'overridden',
    outcomeTimestamp: '2026-11-22T10:05:31Z',
  };

  it('accepts valid feedback', async () => {
    const response = await post('/cds-services/vitamin-d-back-pain/feedback', {
      feedback: [item, { ...item, outcome: 'accepted', acceptedSuggestions: [{ id: 'a1' }] }],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: 2, stored: 2, unknownCards: 2 });
  });

  it.each([
    ['an unknown outcome', { feedback: [{ ...item, outcome: 'ignored' }] }, /outcome/],
    [
      'accepted without acceptedSuggestions',
      { feedback: [{ ...item, outcome: 'accepted' }] },
      /acceptedSuggestions is required/,
    ],
    [
      'a timestamp that is not RFC 3339',
      { feedback: [{ ...item, outcomeTimestamp: 'yesterday' }] },
      /outcomeTimestamp/,
    ],
    ['no feedback array', { card: 'x' }, /feedback: is required/],
  ])('400 for %s', async (_name, body, message) => {
    const response = await post('/cds-services/vitamin-d-back-pain/feedback', body);
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toMatch(message);
  });

  it('404 for feedback to an unknown service', async () => {
    const response = await post('/cds-services/nope/feedback', { feedback: [item] });
    expect(response.statusCode).toBe(404);
  });
});

describe('browser clients and operations', () => {
  it('answers a CORS preflight that asks for Authorization', async () => {
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/cds-services/vitamin-d-back-pain',
      headers: {
        origin: 'https://sandbox.cds-hooks.org',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(String(response.headers['access-control-allow-methods'])).toContain('POST');
  });

  it('sends CORS headers on a real call', async () => {
    const response = await post('/cds-services/vitamin-d-back-pain', await patientViewBody(), {
      origin: 'https://sandbox.cds-hooks.org',
    });
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  it('lets a browser client send X-Request-Id', async () => {
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/cds-services/vitamin-d-back-pain',
      headers: {
        origin: 'https://sandbox.cds-hooks.org',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-request-id',
      },
    });
    expect(response.statusCode).toBe(204);
    expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain('x-request-id');
  });

  it('lets a browser client read Retry-After, WWW-Authenticate and X-Request-Id, on a 401 too', async () => {
    const issuers = JSON.stringify([
      { iss: 'https://ehr.example.org', jwksUrl: 'https://ehr.example.org/jwks' },
    ]);
    const authenticated = await buildTestApp({ env: { AUTH_ISSUERS: issuers } });
    try {
      const responses = [
        await post('/cds-services/vitamin-d-back-pain', await patientViewBody(), {
          origin: 'https://sandbox.cds-hooks.org',
        }),
        await authenticated.inject({
          method: 'POST',
          url: '/cds-services/vitamin-d-back-pain',
          payload: await patientViewBody(),
          headers: { origin: 'https://sandbox.cds-hooks.org' },
        }),
      ];
      expect(responses.map((response) => response.statusCode)).toEqual([200, 401]);
      for (const response of responses) {
        const exposed = String(response.headers['access-control-expose-headers']).toLowerCase().split(/,\s*/);
        expect(exposed).toEqual(expect.arrayContaining(['retry-after', 'www-authenticate', 'x-request-id']));
        expect(response.headers['x-request-id']).toBeDefined();
      }
      expect(responses[1]?.headers['www-authenticate']).toBe('Bearer');
    } finally {
      await authenticated.close();
    }
  });

  it('serves /healthz and /readyz', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await app.inject({ method: 'GET', url: '/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.json<{ code: string }>().code).toBe('NOT_FOUND');
  });

  it('sends the security headers on answers, refusals and unknown routes alike', async () => {
    const responses = [
      await post('/cds-services/vitamin-d-back-pain', await patientViewBody()),
      await post('/cds-services/vitamin-d-back-pain', { hook: 'patient-view' }),
      await app.inject({ method: 'GET', url: '/nothing-here' }),
      await app.inject({ method: 'GET', url: '/cds-services' }),
    ];
    expect(responses.map((response) => response.statusCode)).toEqual([200, 400, 404, 200]);
    for (const response of responses) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        // The CDS Hooks Sandbox and other browser clients read the answers cross-origin.
        'cross-origin-resource-policy': 'cross-origin',
      });
      expect(response.headers['content-security-policy']).toBeUndefined();
    }
  });
});

describe('draft orders may be incomplete (order-select)', () => {
  it('reads a draft order without a status', async () => {
    const { status: _status, ...withoutStatus } = serviceRequest(LUMBAR_FUSION, { id: 'unfinished' });
    const response = await post('/cds-services/spine-preop-vitamin-d', {
      hook: 'order-select',
      hookInstance: HOOK_INSTANCE,
      context: {
        userId: 'Practitioner/dr-1',
        patientId: 'pt-1',
        draftOrders: draftOrders(withoutStatus as never),
        selections: ['ServiceRequest/unfinished'],
      },
      prefetch: await prefetch('spine-preop-vitamin-d', []),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json<{ cards: unknown[] }>().cards).toHaveLength(1);
  });

  it('still refuses a draft order whose fields have the wrong type', async () => {
    const response = await post('/cds-services/spine-preop-vitamin-d', {
      hook: 'order-sign',
      hookInstance: HOOK_INSTANCE,
      context: {
        userId: 'Practitioner/dr-1',
        patientId: 'pt-1',
        draftOrders: draftOrders({ resourceType: 'ServiceRequest', id: 'x', code: 'fusion' } as never),
      },
      prefetch: await prefetch('spine-preop-vitamin-d', []),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toMatch(
      /context\.draftOrders\.entry\[0\]\.resource \("ServiceRequest"\) is not valid: code/,
    );
  });
});
