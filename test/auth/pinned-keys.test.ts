import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chronicLowBackPain } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor, testConfig } from '../helpers/build-app.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { makeKey, signToken, type TestKey } from '../helpers/jwt.js';

const BASE = 'https://cds.example.org';
const SERVICE_URL = `${BASE}/cds-services/vitamin-d-back-pain`;
/** As the CDS Hooks Sandbox signs: ES384, a kid, and a jku it always sends. */
const SANDBOX = 'https://sandbox.cds-hooks.org';
const SANDBOX_JKU = `${SANDBOX}/.well-known/jwks.json`;

let sandboxKey: TestKey;
let forger: TestKey;
let rotated: TestKey;
let rotatedJwks: JwksServer;
let app: FastifyInstance;
let body: Record<string, unknown>;
/** Every URL the service tried to fetch; none of them answers (no network). */
const fetched: string[] = [];

beforeAll(async () => {
  [sandboxKey, forger, rotated] = await Promise.all([
    makeKey('ES384', '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f'),
    makeKey('ES384', 'forger'),
    makeKey('ES384', 'rotated'),
  ]);
  rotatedJwks = await startJwksServer([rotated.publicJwk]);
  const issuers = [
    { iss: SANDBOX, jwks: { keys: [sandboxKey.publicJwk] }, jkuAllowlist: [SANDBOX_JKU, rotatedJwks.url] },
    { iss: 'https://pinned-only.example.org', jwks: { keys: [sandboxKey.publicJwk] } },
  ];
  const offline: typeof fetch = async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    fetched.push(url);
    if (url === rotatedJwks.url) {
      return fetch(input);
    }
    throw new TypeError(`fetch failed: getaddrinfo ENOTFOUND ${new URL(url).host}`);
  };
  app = await buildTestApp({
    env: { PUBLIC_BASE_URL: BASE, AUTH_ISSUERS: JSON.stringify(issuers), AUTH_JWKS_COOLDOWN_MS: '0' },
    now: new Date(),
    deps: { fetch: offline },
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
  await rotatedJwks.close();
});

const call = (token: string) =>
  app.inject({
    method: 'POST',
    url: '/cds-services/vitamin-d-back-pain',
    payload: body,
    headers: { authorization: `Bearer ${token}` },
  });

describe('pinned keys first (issue 12)', () => {
  it('accepts a Sandbox-shaped token offline: its kid is pinned, its unreachable jku is never fetched', async () => {
    fetched.length = 0;
    const token = await signToken(sandboxKey, { iss: SANDBOX, aud: SERVICE_URL, jku: SANDBOX_JKU });
    expect((await call(token)).statusCode).toBe(200);
    expect(fetched).toEqual([]);
  });

  it('verifies a pinned kid with the pinned key whatever the jku, even one off the allowlist', async () => {
    fetched.length = 0;
    const token = await signToken(sandboxKey, {
      iss: 'https://pinned-only.example.org',
      aud: SERVICE_URL,
      jku: 'https://attacker.example.net/jwks.json',
    });
    expect((await call(token)).statusCode).toBe(200);
    expect(fetched).toEqual([]);
  });

  it('refuses a forged token that names a pinned kid and a jku holding the forger key', async () => {
    const forgerJwks = await startJwksServer([{ ...forger.publicJwk, kid: sandboxKey.kid }]);
    try {
      const token = await signToken(forger, {
        iss: SANDBOX,
        aud: SERVICE_URL,
        kid: sandboxKey.kid,
        jku: forgerJwks.url,
      });
      expect((await call(token)).statusCode).toBe(401);
      expect(forgerJwks.requests).toEqual([]);
    } finally {
      await forgerJwks.close();
    }
  });

  it('follows an allowlisted jku only for a kid the pinned keys do not have', async () => {
    fetched.length = 0;
    const token = await signToken(rotated, { iss: SANDBOX, aud: SERVICE_URL, jku: rotatedJwks.url });
    expect((await call(token)).statusCode).toBe(200);
    expect(fetched).toEqual([rotatedJwks.url]);
  });

  it("ships the Sandbox's public key pinned in docker/issuers.cds-hooks-sandbox.json", () => {
    const config = testConfig({ AUTH_ISSUERS_FILE: 'docker/issuers.cds-hooks-sandbox.json' });
    const [issuer] = config.auth?.issuers ?? [];
    expect(issuer?.iss).toBe(SANDBOX);
    expect(issuer?.jwks?.keys.map((key) => key['kid'])).toEqual([sandboxKey.kid]);
  });

  it('refuses an unknown kid whose jku is not allowlisted, without fetching it', async () => {
    fetched.length = 0;
    const token = await signToken(forger, {
      iss: SANDBOX,
      aud: SERVICE_URL,
      jku: 'https://attacker.example.net/jwks.json',
    });
    expect((await call(token)).statusCode).toBe(401);
    expect(fetched).toEqual([]);
  });
});
