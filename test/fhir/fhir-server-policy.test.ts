import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirServerRefusal } from '../../src/fhir/fhir-server-policy.js';
import { chronicLowBackPain, patient } from '../helpers/builders.js';
import { buildTestApp } from '../helpers/build-app.js';
import { type FakeFhirServer, startFakeFhirServer } from '../helpers/fake-fhir-server.js';
import { makeKey, signToken, type TestKey } from '../helpers/jwt.js';

describe('fhirServerRefusal', () => {
  it.each([
    ['https://fhir.example.org/r4', ['https://fhir.example.org/r4'], undefined],
    ['https://fhir.example.org/r4/', ['https://fhir.example.org/r4'], undefined],
    [
      'https://fhir.example.org/r4-other',
      ['https://fhir.example.org/r4'],
      'fhirServer is not on the allowlist for this client',
    ],
    [
      'https://fhir.example.org.evil.com/r4',
      ['https://fhir.example.org'],
      'fhirServer is not on the allowlist for this client',
    ],
    [
      'http://fhir.example.org/r4',
      ['http://fhir.example.org/r4'],
      'fhirServer must use https outside loopback',
    ],
    ['http://127.0.0.1:8103/fhir', ['loopback'], undefined],
    ['http://localhost:8103/fhir', ['loopback'], undefined],
    ['https://fhir.example.org/r4', ['loopback'], 'fhirServer is not on the allowlist for this client'],
    ['http://169.254.169.254/latest', ['loopback'], 'fhirServer must use https outside loopback'],
    ['not a url', ['loopback'], 'fhirServer is not a URL'],
  ])('%s against %j', (fhirServer, allowlist, expected) => {
    expect(fhirServerRefusal(fhirServer, allowlist)).toBe(expected);
  });
});

describe('the access token reaches only an allowed fhirServer', () => {
  const BASE = 'https://cds.example.org';
  const ISS = 'https://ehr.example.org';
  const TOKEN = 'fhir-access-token-xyz';
  let key: TestKey;
  let allowed: FakeFhirServer;
  let other: FakeFhirServer;
  let app: FastifyInstance;

  beforeAll(async () => {
    key = await makeKey('ES384', 'k1');
    const resources = [patient('pt-1'), chronicLowBackPain()];
    allowed = await startFakeFhirServer({ resources, token: TOKEN });
    other = await startFakeFhirServer({ resources });
    app = await buildTestApp({
      env: {
        PUBLIC_BASE_URL: BASE,
        AUTH_ISSUERS: JSON.stringify([
          { iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [allowed.baseUrl] },
        ]),
      },
      now: new Date(),
    });
  });
  afterAll(async () => {
    await app.close();
    await allowed.close();
    await other.close();
  });

  const call = async (fhirServer: string) =>
    app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      headers: {
        authorization: `Bearer ${await signToken(key, { iss: ISS, aud: `${BASE}/cds-services/vitamin-d-back-pain` })}`,
      },
      payload: {
        hook: 'patient-view',
        hookInstance: crypto.randomUUID(),
        fhirServer,
        fhirAuthorization: {
          access_token: TOKEN,
          token_type: 'Bearer',
          expires_in: 300,
          scope: 'user/*.read',
          subject: 'cds',
        },
        context: { userId: 'Practitioner/1', patientId: 'pt-1' },
      },
    });

  it("reads from the issuer's allowed FHIR server with the token", async () => {
    const response = await call(allowed.baseUrl);
    expect(response.statusCode).toBe(200);
    expect(allowed.requests.length).toBeGreaterThan(0);
    expect(allowed.requests.every((request) => request.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('does not contact a fhirServer off the allowlist, and answers 412', async () => {
    const response = await call(other.baseUrl);
    expect(response.statusCode).toBe(412);
    expect(response.json<{ message: string }>().message).toMatch(/not on the allowlist/);
    expect(other.requests).toEqual([]);
  });
});
