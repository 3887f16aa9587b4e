import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chronicLowBackPain } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { hmacWithPublicKey, makeKey, signToken, type TestKey, unsignedToken } from '../helpers/jwt.js';

const BASE = 'https://cds.example.org';
const ISS = 'https://ehr.example.org';
const SERVICE_URL = `${BASE}/cds-services/vitamin-d-back-pain`;

let es384: TestKey;
let rs384: TestKey;
let stranger: TestKey;
let rotated: TestKey;
let jwks: JwksServer;
let evil: JwksServer;
let app: FastifyInstance;
let body: Record<string, unknown>;

beforeAll(async () => {
  [es384, rs384, stranger, rotated] = await Promise.all([
    makeKey('ES384', 'es-1'),
    makeKey('RS384', 'rs-1'),
    makeKey('ES384', 'unknown-kid'),
    makeKey('ES384', 'es-2'),
  ]);
  jwks = await startJwksServer([es384.publicJwk]);
  evil = await startJwksServer([stranger.publicJwk]);
  const issuers = [
    { iss: ISS, jwks: { keys: [es384.publicJwk, rs384.publicJwk] } },
    { iss: 'https://remote.example.org', jwksUrl: jwks.url, jkuAllowlist: [jwks.url] },
    { iss: 'https://tenanted.example.org', jwks: { keys: [es384.publicJwk] }, tenants: ['hospital-a'] },
  ];
  app = await buildTestApp({
    env: { PUBLIC_BASE_URL: BASE, AUTH_ISSUERS: JSON.stringify(issuers), AUTH_JWKS_COOLDOWN_MS: '0' },
    now: new Date(),
  });
  const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
  body = {
    hook: 'patient-view',
    hookInstance: '7c1f7a2e-5b7d-4f0e-9a57-6f4a3c1b2e90',
    context: { userId: 'Practitioner/dr-1', patientId: 'pt-1' },
    prefetch: prefetchFor(templates, [chronicLowBackPain()]),
  };
});
afterAll(async () => {
  await app.close();
  await jwks.close();
  await evil.close();
});

const callWith = (
  token: string | undefined,
  url = '/cds-services/vitamin-d-back-pain',
  payload: unknown = body,
) =>
  app.inject({
    method: url === '/cds-services' ? 'GET' : 'POST',
    url,
    ...(url === '/cds-services' ? {} : { payload: payload as Record<string, unknown> }),
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

function expectBare401(response: Awaited<ReturnType<typeof callWith>>): void {
  expect(response.statusCode).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer');
  const json = response.json<{ message: string; code: string }>();
  expect(json.message).toBe('Unauthorized');
  expect(json.code).toBe('CDS_UNAUTHORIZED');
}

describe('CDS client JWTs', () => {
  it('accepts a valid ES384 token', async () => {
    const response = await callWith(await signToken(es384, { iss: ISS, aud: SERVICE_URL }));
    expect(response.statusCode).toBe(200);
  });

  it('accepts a valid RS384 token, with aud as an array', async () => {
    const response = await callWith(await signToken(rs384, { iss: ISS, aud: [SERVICE_URL] }));
    expect(response.statusCode).toBe(200);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const refused: [string, () => Promise<string | undefined>][] = [
    ['no token', async () => undefined],
    ['a malformed token', async () => 'not.a-jwt'],
    [
      'alg none',
      async () =>
        unsignedToken({ iss: ISS, aud: SERVICE_URL, exp: now() + 300, iat: now(), jti: 'n-1' }, 'es-1'),
    ],
    [
      'HS256 signed with the public key',
      async () =>
        hmacWithPublicKey(
          es384.publicJwk,
          { iss: ISS, aud: SERVICE_URL, exp: now() + 300, iat: now(), jti: 'h-1' },
          'es-1',
        ),
    ],
    [
      "another service's aud",
      async () => signToken(es384, { iss: ISS, aud: `${BASE}/cds-services/b12-drug-risk` }),
    ],
    [
      'an aud built from another host',
      async () => signToken(es384, { iss: ISS, aud: 'http://localhost:80/cds-services/vitamin-d-back-pain' }),
    ],
    ['no aud', async () => signToken(es384, { iss: ISS })],
    [
      'an expired token',
      async () => signToken(es384, { iss: ISS, aud: SERVICE_URL, iat: now() - 600, exp: now() - 120 }),
    ],
    [
      'iat in the future beyond the skew',
      async () => signToken(es384, { iss: ISS, aud: SERVICE_URL, iat: now() + 600, exp: now() + 900 }),
    ],
    [
      'a token older than an hour',
      async () => signToken(es384, { iss: ISS, aud: SERVICE_URL, iat: now() - 4000, exp: now() + 300 }),
    ],
    ['an unknown kid', async () => signToken(stranger, { iss: ISS, aud: SERVICE_URL })],
    [
      'a key of the right kid but the wrong key',
      async () => signToken({ ...stranger, kid: 'es-1' }, { iss: ISS, aud: SERVICE_URL }),
    ],
    [
      'an untrusted iss',
      async () => signToken(es384, { iss: 'https://attacker.example.org', aud: SERVICE_URL }),
    ],
    [
      "a jku off the issuer's allowlist",
      async () => signToken(stranger, { iss: 'https://remote.example.org', aud: SERVICE_URL, jku: evil.url }),
    ],
    [
      'a jku for an issuer with no jku allowlist',
      async () => signToken(stranger, { iss: ISS, aud: SERVICE_URL, jku: evil.url }),
    ],
    [
      'a tenant not allowed',
      async () =>
        signToken(es384, { iss: 'https://tenanted.example.org', aud: SERVICE_URL, tenant: 'hospital-b' }),
    ],
    [
      'no tenant where tenants are required',
      async () => signToken(es384, { iss: 'https://tenanted.example.org', aud: SERVICE_URL }),
    ],
  ];
  it.each(refused)('refuses %s with a bare 401', async (_name, token) => {
    expectBare401(await callWith(await token()));
  });

  it('never fetches a jku that is not allowlisted', async () => {
    await callWith(
      await signToken(stranger, { iss: 'https://remote.example.org', aud: SERVICE_URL, jku: evil.url }),
    );
    expect(evil.requests).toEqual([]);
  });

  it('accepts an allowed tenant', async () => {
    const response = await callWith(
      await signToken(es384, { iss: 'https://tenanted.example.org', aud: SERVICE_URL, tenant: 'hospital-a' }),
    );
    expect(response.statusCode).toBe(200);
  });

  it('refuses a replayed jti', async () => {
    const token = await signToken(es384, { iss: ISS, aud: SERVICE_URL, jti: 'once-only' });
    expect((await callWith(token)).statusCode).toBe(200);
    expectBare401(await callWith(token));
  });

  it('follows an allowlisted jku', async () => {
    const response = await callWith(
      await signToken(es384, { iss: 'https://remote.example.org', aud: SERVICE_URL, jku: jwks.url }),
    );
    expect(response.statusCode).toBe(200);
  });

  it('refetches a JWKS URL when a token names a new kid (key rotation)', async () => {
    const first = await callWith(
      await signToken(es384, { iss: 'https://remote.example.org', aud: SERVICE_URL }),
    );
    expect(first.statusCode).toBe(200);
    jwks.setKeys([es384.publicJwk, rotated.publicJwk]);
    const fetchesBefore = jwks.requests.length;
    const response = await callWith(
      await signToken(rotated, { iss: 'https://remote.example.org', aud: SERVICE_URL }),
    );
    expect(response.statusCode).toBe(200);
    expect(jwks.requests.length).toBe(fetchesBefore + 1);
  });

  it('checks feedback with its own aud', async () => {
    const feedback = {
      feedback: [{ card: 'c-1', outcome: 'overridden', outcomeTimestamp: '2026-11-22T10:05:31Z' }],
    };
    const url = '/cds-services/vitamin-d-back-pain/feedback';
    expectBare401(await callWith(await signToken(es384, { iss: ISS, aud: SERVICE_URL }), url, feedback));
    const response = await callWith(
      await signToken(es384, { iss: ISS, aud: `${SERVICE_URL}/feedback` }),
      url,
      feedback,
    );
    expect(response.statusCode).toBe(200);
  });

  it('protects discovery by default, with its own aud', async () => {
    expectBare401(await callWith(undefined, '/cds-services'));
    const response = await callWith(
      await signToken(es384, { iss: ISS, aud: `${BASE}/cds-services` }),
      '/cds-services',
    );
    expect(response.statusCode).toBe(200);
  });

  it('leaves health checks and CORS preflights open', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/cds-services/vitamin-d-back-pain',
      headers: {
        origin: 'https://sandbox.cds-hooks.org',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.statusCode).toBe(204);
  });

  it('can leave discovery open by configuration', async () => {
    const open = await buildTestApp({
      env: {
        PUBLIC_BASE_URL: BASE,
        AUTH_ISSUERS: JSON.stringify([{ iss: ISS, jwks: { keys: [es384.publicJwk] } }]),
        AUTH_PROTECT_DISCOVERY: 'false',
      },
    });
    try {
      expect((await open.inject({ method: 'GET', url: '/cds-services' })).statusCode).toBe(200);
      expect(
        (await open.inject({ method: 'POST', url: '/cds-services/vitamin-d-back-pain', payload: body }))
          .statusCode,
      ).toBe(401);
    } finally {
      await open.close();
    }
  });
});
