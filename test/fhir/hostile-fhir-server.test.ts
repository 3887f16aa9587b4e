import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fhirServerRefusal } from '../../src/fhir/fhir-server-policy.js';
import {
  chronicLowBackPain,
  daysAgo,
  draftOrders,
  FOLIC_ACID,
  medicationRequest,
  METFORMIN,
  monthsAgo,
  patient,
  vitaminD,
} from '../helpers/builders.js';
import { buildTestApp } from '../helpers/build-app.js';
import { responseProblems } from '../helpers/card-validator.js';
import {
  type ScriptedRequest,
  type ScriptedServer,
  sendFhir,
  startScriptedServer,
} from '../helpers/scripted-server.js';

const TOKEN = 'hostile-test-token-4711';
const PHI = 'Smithfield-1961-02-03';

/** What the FHIR server holds for pt-1, by resource type (searches) and `Type/id` (reads). */
const world: Resource[] = [
  patient('pt-1'),
  chronicLowBackPain({ id: 'pain-1' }),
  vitaminD(14, daysAgo(20), { id: 'vd-1' }),
  medicationRequest(METFORMIN, { id: 'met-1', authoredOn: monthsAgo(30) }),
];

type Script = (request: ScriptedRequest, response: ServerResponse, path: string) => boolean;
let script: Script | undefined;
let fhir: ScriptedServer;
let base: string;
let app: FastifyInstance;
const logLines: string[] = [];

function answerFromWorld(request: ScriptedRequest, response: ServerResponse): void {
  const url = new URL(request.url, 'http://x');
  const [type = '', id] = url.pathname.replace(/^\/fhir\/?/, '').split('/');
  if (id) {
    const found = world.find((resource) => resource.resourceType === type && resource.id === id);
    if (found) {
      sendFhir(response, 200, found);
    } else {
      sendFhir(response, 404, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'not-found' }],
      });
    }
    return;
  }
  sendFhir(response, 200, {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: world.filter((resource) => resource.resourceType === type).map((resource) => ({ resource })),
  });
}

beforeAll(async () => {
  fhir = await startScriptedServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (script?.(request, response, path)) {
      return;
    }
    answerFromWorld(request, response);
  });
  base = `${fhir.origin}/fhir`;
  app = await buildTestApp({
    env: {
      FHIR_CACHE_TTL_MS: '0',
      FHIR_DEADLINE_MS: '2000',
      FHIR_MAX_RESPONSE_BYTES: '4096',
      FHIR_MAX_PAGES: '3',
    },
    deps: { loggerInstance: pino({ level: 'trace' }, { write: (line: string) => logLines.push(line) }) },
  });
});
afterAll(async () => {
  await app.close();
  await fhir.close();
});
afterEach(() => {
  script = undefined;
  fhir.requests.length = 0;
  logLines.length = 0;
});

function call(options: { service?: string; fhirServer?: string; prefetch?: unknown; body?: object } = {}) {
  return app.inject({
    method: 'POST',
    url: `/cds-services/${options.service ?? 'vitamin-d-back-pain'}`,
    payload: {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      fhirServer: options.fhirServer ?? base,
      fhirAuthorization: {
        access_token: TOKEN,
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'user/*.read',
        subject: 'cds',
      },
      context: { userId: 'Practitioner/dr-1', patientId: 'pt-1' },
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
      ...options.body,
    },
  });
}
const summaries = (response: { json: () => unknown }) =>
  (response.json() as { cards: { summary: string }[] }).cards.map((card) => card.summary);

describe('redirects are never followed (issue 15 item 4)', () => {
  it.each([301, 302, 303, 307, 308])(
    '%i to a path on the same host that answers: 412, target never called',
    async (status) => {
      script = (_request, response, path) => {
        if (path === '/fhir/Patient/pt-1') {
          response.writeHead(status, { location: `${fhir.origin}/admin/stolen-30x` });
          response.end();
          return true;
        }
        if (path.startsWith('/admin/')) {
          // A Patient served through a redirect must never be used, nor the token sent here.
          sendFhir(response, 200, patient('pt-1'));
          return true;
        }
        return false;
      };
      const response = await call();
      expect(response.statusCode).toBe(412);
      expect(response.json<{ message: string }>().message).toMatch(
        new RegExp(`answered ${status} \\(a redirect`),
      );
      expect(fhir.requests.some((request) => request.url.startsWith('/admin/'))).toBe(false);
    },
  );

  it('a redirect to another port that answers is not followed either', async () => {
    const elsewhere = await startScriptedServer((_request, response) => {
      sendFhir(response, 200, patient('pt-1'));
    });
    try {
      script = (_request, response, path) => {
        if (path === '/fhir/Patient/pt-1') {
          response.writeHead(307, { location: `${elsewhere.origin}/fhir/Patient/pt-1` });
          response.end();
          return true;
        }
        return false;
      };
      expect((await call()).statusCode).toBe(412);
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('URLs are compared parsed and normalised (issue 15 items 5 and 9)', () => {
  it.each([
    [
      'https://fhir.example.org/r4/..%2f..%2fadmin',
      'fhirServer has a path that leaves its base after decoding',
    ],
    ['https://fhir.example.org/r4/%2e%2e/admin', 'fhirServer is not on the allowlist for this client'],
    [
      'https://fhir.example.org/r4/%2E%2E%2Fadmin',
      'fhirServer has a path that leaves its base after decoding',
    ],
    ['https://fhir.example.org/r4/..%5cadmin', 'fhirServer has a path that leaves its base after decoding'],
    ['https://fhir.example.org/r4%2fx', 'fhirServer has a path that leaves its base after decoding'],
    ['https://user:pw@fhir.example.org/r4', 'fhirServer carries credentials'],
    ['https://fhir.example.org:8443/r4', 'fhirServer is not on the allowlist for this client'],
    ['https://fhir.example.org/r4%', 'fhirServer has a path that is not valid percent-encoding'],
  ])('refuses %s', (fhirServer, reason) => {
    expect(fhirServerRefusal(fhirServer, ['https://fhir.example.org/r4'])).toBe(reason);
  });

  it.each([
    'HTTPS://FHIR.EXAMPLE.ORG/r4',
    'https://fhir.example.org:443/r4/',
    'https://fhir.example.org/r4/Patient',
    'https://fhir.example.org/%72%34',
  ])('accepts %s for https://fhir.example.org/r4', (fhirServer) => {
    expect(fhirServerRefusal(fhirServer, ['https://fhir.example.org/r4'])).toBeUndefined();
  });

  it('an allowlist entry written in upper case matches too', () => {
    expect(
      fhirServerRefusal('https://fhir.example.org/r4', ['HTTPS://Fhir.Example.org:443/r4/']),
    ).toBeUndefined();
  });

  it('an upper-case HTTP:// fhirServer is read like a lower-case one (200, not 500)', async () => {
    const response = await call({ fhirServer: base.replace('http://', 'HTTP://') });
    expect(response.statusCode).toBe(200);
    expect(summaries(response)[0]).toMatch(/deficiency/);
  });

  it('a next link that walks out of the base with encoded dots is refused and never called', async () => {
    script = (_request, response, path) => {
      if (path === '/fhir/Condition') {
        sendFhir(response, 200, {
          resourceType: 'Bundle',
          link: [{ relation: 'next', url: `${base}/..%2f..%2fadmin/Condition?patient=pt-1` }],
          entry: [],
        });
        return true;
      }
      return false;
    };
    const response = await call();
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/outside the FHIR server/);
    expect(fhir.requests.some((request) => request.url.includes('admin'))).toBe(false);
  });
});

describe('FHIR response size (issue 15 item 3)', () => {
  it('an endless body is refused with the reason once it passes FHIR_MAX_RESPONSE_BYTES', async () => {
    let written = 0;
    script = (_request, response, path) => {
      if (path !== '/fhir/Observation') {
        return false;
      }
      response.writeHead(200, { 'content-type': 'application/fhir+json' });
      response.write('{"resourceType":"Bundle","entry":[');
      const timer = setInterval(() => {
        if (response.destroyed || written > 50_000_000) {
          clearInterval(timer);
          response.destroy();
          return;
        }
        written += 1024;
        response.write(`${' '.repeat(1023)},`);
      }, 1);
      return true;
    };
    const response = await call();
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(
      /larger than 4096 bytes \(FHIR_MAX_RESPONSE_BYTES\)/,
    );
    // Refused while streaming: far less than the 50 MB the server would have sent.
    expect(written).toBeLessThan(5_000_000);
  });

  it('a declared Content-Length over the limit is refused before reading', async () => {
    script = (_request, response, path) => {
      if (path !== '/fhir/Condition') {
        return false;
      }
      response.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': '100000' });
      response.write('{"resourceType":"Bundle"');
      return true;
    };
    const response = await call();
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/larger than 4096 bytes/);
  });
});

describe('malformed FHIR shapes: 400 from a client, 412 from a server, never 500 (issue 15 item 9)', () => {
  const nullLink = { resourceType: 'Bundle', type: 'searchset', link: [null], entry: [] };
  const nullIssue = {
    resourceType: 'Bundle',
    entry: [{ resource: { resourceType: 'OperationOutcome', issue: [null] } }],
  };
  const outcomeWithNullIssue = { resourceType: 'OperationOutcome', issue: [null] };
  const nonStringNext = { resourceType: 'Bundle', link: [{ relation: 'next', url: 42 }], entry: [] };

  it.each([
    ['null in Bundle.link', nullLink],
    ['null in OperationOutcome.issue inside a Bundle', nullIssue],
    ['null in OperationOutcome.issue', outcomeWithNullIssue],
    ['a next link whose url is a number', nonStringNext],
  ])('%s from the FHIR server: 412', async (_name, body) => {
    script = (_request, response, path) => {
      if (path === '/fhir/Condition') {
        sendFhir(response, 200, body);
        return true;
      }
      return false;
    };
    const response = await call();
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/"conditions"/);
  });

  it.each([
    ['null in Bundle.link', nullLink],
    ['null in OperationOutcome.issue inside a Bundle', nullIssue],
    ['null in OperationOutcome.issue', outcomeWithNullIssue],
  ])('%s in the client prefetch: 400', async (_name, body) => {
    const response = await call({ prefetch: { conditions: body } });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toMatch(/prefetch\.conditions/);
  });
});

describe('log lines carry no text from FHIR resources or OperationOutcomes (issue 15 item 10)', () => {
  it.each([404, 500])(
    'an OperationOutcome with details.text (status %i) is reduced to status and code',
    async (status) => {
      script = (_request, response, path) => {
        if (path === '/fhir/Condition') {
          sendFhir(response, status, {
            resourceType: 'OperationOutcome',
            issue: [
              {
                severity: 'error',
                code: 'processing',
                details: { text: `No access to ${PHI}` },
                diagnostics: PHI,
              },
            ],
          });
          return true;
        }
        return false;
      };
      const response = await call();
      expect(response.statusCode).toBe(412);
      const { message } = response.json<{ message: string }>();
      expect(message).toMatch(new RegExp(`answered ${status} \\(processing\\)`));
      expect(message).not.toContain(PHI);
      expect(logLines.length).toBeGreaterThan(0);
      expect(logLines.join('\n')).not.toContain(PHI);
      expect(logLines.join('\n')).not.toContain('Smithfield');
    },
  );
});

describe('outbound requests (issue 12)', () => {
  it('send Accept: application/fhir+json, a User-Agent naming the service, and no library headers', async () => {
    expect((await call()).statusCode).toBe(200);
    expect(fhir.requests.length).toBeGreaterThan(0);
    for (const request of fhir.requests) {
      expect(request.headers['accept']).toBe('application/fhir+json');
      expect(request.headers['user-agent']).toMatch(/^vitamin-cds-hooks\/\d+\.\d+\.\d+$/);
      expect(request.headers['authorization']).toBe(`Bearer ${TOKEN}`);
      expect(Object.keys(request.headers).filter((name) => name.startsWith('x-'))).toEqual([]);
    }
  });
});

describe('answers as .NET servers write them', () => {
  it('a JSON body that starts with a UTF-8 byte order mark is read (RFC 8259 lets a parser ignore it)', async () => {
    script = (_request, response, path) => {
      if (path !== '/fhir/Condition') {
        return false;
      }
      const bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: world[1] }] };
      response.writeHead(200, { 'content-type': 'application/fhir+json; charset=utf-8' });
      response.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(bundle))]));
      return true;
    };
    const response = await call();
    expect(response.statusCode).toBe(200);
    expect(summaries(response)[0]).toMatch(/deficiency/);
  });
});

describe('HAPI-style paging (issue 12 item 4)', () => {
  /** Condition search in pages of one, linked the way HAPI links them: `{base}?_getpages=…`. */
  const hapiPaging =
    (pages: number, nextBase = base): Script =>
    (request, response, path) => {
      const url = new URL(request.url, 'http://x');
      const offset = Number(url.searchParams.get('_getpagesoffset') ?? '0');
      const isSearch = path === '/fhir/Condition';
      const isPage = path === '/fhir' && url.searchParams.get('_getpages') === 'a1b2c3';
      if (!isSearch && !isPage) {
        return false;
      }
      const hasNext = offset + 1 < pages;
      sendFhir(response, 200, {
        resourceType: 'Bundle',
        type: 'searchset',
        link: [
          { relation: 'self', url: `${base}/Condition?patient=pt-1` },
          ...(hasNext
            ? [
                {
                  relation: 'next',
                  url: `${nextBase}?_getpages=a1b2c3&_getpagesoffset=${offset + 1}&_count=1&_pretty=true&_bundletype=searchset`,
                },
              ]
            : []),
        ],
        // The chronic pain condition is on the last page.
        entry: offset === pages - 1 ? [{ resource: world[1] }] : [],
      });
      return true;
    };

  it('follows next links to {base}?_getpages= with the token', async () => {
    script = hapiPaging(3);
    const response = await call();
    expect(response.statusCode).toBe(200);
    expect(summaries(response)[0]).toMatch(/deficiency/);
    const pages = fhir.requests.filter((request) => request.url.startsWith('/fhir?_getpages='));
    expect(pages).toHaveLength(2);
    expect(pages.every((request) => request.headers['authorization'] === `Bearer ${TOKEN}`)).toBe(true);
  });

  it.each([
    ['a sibling path', () => `${fhir.origin}/fhir-admin`],
    ['the parent path', () => fhir.origin],
    ['another port', () => base.replace(/:\d+\//, ':9/')],
    ['https on the same host', () => base.replace('http://', 'https://')],
  ])('never follows a next link to %s', async (_name, nextBase) => {
    script = hapiPaging(3, nextBase());
    const response = await call();
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/outside the FHIR server/);
  });

  it('a record longer than FHIR_MAX_PAGES is read as far as allowed, not refused', async () => {
    script = hapiPaging(5);
    const response = await call();
    expect(response.statusCode).toBe(200);
    expect(
      fhir.requests.filter((request) => /^\/fhir(\/Condition|\?_getpages)/.test(request.url)),
    ).toHaveLength(3);
    expect(logLines.join('\n')).toMatch(/more pages than FHIR_MAX_PAGES/);
  });
});

describe('prefetch keys a server does not offer (issue 12 item 5)', () => {
  const unsupported =
    (types: string[], status = 404): Script =>
    (_request, response, path) => {
      if (!types.some((type) => path === `/fhir/${type}`)) {
        return false;
      }
      sendFhir(response, status, {
        resourceType: 'OperationOutcome',
        issue: [
          { severity: 'error', code: 'not-supported', details: { text: `Unknown resource type ${PHI}` } },
        ],
      });
      return true;
    };

  it.each([400, 403, 404, 405])(
    'MedicationStatement answered %i: the B12 card still comes from MedicationRequest',
    async (status) => {
      script = unsupported(['MedicationStatement'], status);
      const response = await call({ service: 'b12-drug-risk' });
      expect(response.statusCode).toBe(200);
      expect(responseProblems(response.json())).toEqual([]);
      expect(summaries(response).join(' ')).toMatch(/B12/);
      expect(logLines.join('\n')).toMatch(/does not offer some prefetch data/);
      expect(logLines.join('\n')).not.toContain(PHI);
    },
  );

  it('no rule of the service can decide: 412 naming the keys', async () => {
    script = unsupported(['MedicationStatement', 'MedicationRequest']);
    const response = await call({ service: 'b12-drug-risk' });
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(
      /"medicationStatements" \(the server answered 404 \(not-supported\)\)/,
    );
  });

  it('a rule that cannot decide gives no card and is counted in /metrics; the others still answer', async () => {
    script = unsupported(['MedicationStatement', 'MedicationRequest']);
    const folicAcid = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' });
    const response = await call({
      service: 'b12-drug-risk',
      body: {
        hook: 'order-sign',
        context: { userId: 'Practitioner/dr-1', patientId: 'pt-1', draftOrders: draftOrders(folicAcid) },
      },
    });
    expect(response.statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(
      /cds_rules_skipped_total\{service="b12-drug-risk-order-sign",rule="B12-NEW-DRUG"\} [1-9]/,
    );
    expect(metrics.body).not.toMatch(/rule="FOLIC-ACID"\} [1-9]/);
  });

  it.each(['spine-preop-vitamin-d', 'b12-drug-risk'])(
    '%s never advises without conditions: the pregnancy and contraindication checks read them',
    async (service) => {
      script = unsupported(['Condition']);
      const response = await call({ service });
      expect(response.statusCode).toBe(412);
      expect(response.json<{ message: string }>().message).toMatch(/"conditions"/);
    },
  );

  it.each([
    ['a 500', 500],
    ['a 401', 401],
  ])('%s stays a failure (412)', async (_name, status) => {
    script = unsupported(['MedicationStatement'], status);
    const response = await call({ service: 'b12-drug-risk' });
    expect(response.statusCode).toBe(412);
  });
});
