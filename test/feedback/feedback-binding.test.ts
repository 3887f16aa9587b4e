import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chronicLowBackPain, patient } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';
import { makeKey, signToken, type TestKey } from '../helpers/jwt.js';

const BASE = 'https://cds.example.org';
const HOSPITAL_A = 'https://ehr-a.example.org';
const HOSPITAL_B = 'https://ehr-b.example.org';
const SHARED = 'https://shared-ehr.example.org';
const PATIENT = 'pt-bound';

let keyA: TestKey;
let keyB: TestKey;
let app: FastifyInstance;

beforeAll(async () => {
  [keyA, keyB] = await Promise.all([makeKey('ES384', 'a-1'), makeKey('ES384', 'b-1')]);
  const issuers = [
    { iss: HOSPITAL_A, jwks: { keys: [keyA.publicJwk] } },
    { iss: HOSPITAL_B, jwks: { keys: [keyB.publicJwk] } },
    { iss: SHARED, jwks: { keys: [keyA.publicJwk] }, tenants: ['north', 'south'] },
  ];
  app = await buildTestApp({
    env: { PUBLIC_BASE_URL: BASE, AUTH_ISSUERS: JSON.stringify(issuers) },
    now: new Date(),
  });
});
afterAll(async () => {
  await app.close();
});

interface Caller {
  key: TestKey;
  iss: string;
  tenant?: string;
}

async function headers(caller: Caller, path: string): Promise<Record<string, string>> {
  const token = await signToken(caller.key, {
    iss: caller.iss,
    aud: `${BASE}${path}`,
    ...(caller.tenant ? { tenant: caller.tenant } : {}),
  });
  return { authorization: `Bearer ${token}` };
}

async function viewPatient(caller: Caller): Promise<string[]> {
  const path = '/cds-services/vitamin-d-back-pain';
  const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
  const response = await app.inject({
    method: 'POST',
    url: path,
    headers: await headers(caller, path),
    payload: {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      context: { userId: 'Practitioner/1', patientId: PATIENT },
      prefetch: prefetchFor(
        templates,
        [patient(PATIENT), chronicLowBackPain({ patientId: PATIENT })],
        PATIENT,
      ),
    },
  });
  expect(response.statusCode).toBe(200);
  return response.json<{ cards: { uuid: string }[] }>().cards.map((card) => card.uuid);
}

async function snoozeThrough(caller: Caller, serviceId: string, card: string) {
  const path = `/cds-services/${serviceId}/feedback`;
  const response = await app.inject({
    method: 'POST',
    url: path,
    headers: await headers(caller, path),
    payload: {
      feedback: [
        {
          card,
          outcome: 'overridden',
          overrideReason: {
            reason: {
              system: 'https://vitamin-cds.example.org/fhir/CodeSystem/override-reason',
              code: 'tested-elsewhere',
              display: 'Tested elsewhere',
            },
          },
          outcomeTimestamp: new Date().toISOString(),
        },
      ],
    },
  });
  expect(response.statusCode).toBe(200);
  return response.json<{ received: number; stored: number; unknownCards: number }>();
}

describe('feedback is bound to the card it names (issue 15)', () => {
  it("another issuer cannot silence a rule for this issuer's patient with its card uuid", async () => {
    const a: Caller = { key: keyA, iss: HOSPITAL_A };
    const b: Caller = { key: keyB, iss: HOSPITAL_B };
    const [card] = await viewPatient(a);
    expect(card).toBeDefined();
    const receipt = await snoozeThrough(b, 'vitamin-d-back-pain', card!);
    expect(await viewPatient(a)).toHaveLength(1);
    expect(receipt).toMatchObject({ unknownCards: 1 });
  });

  it('another tenant of the same issuer cannot either', async () => {
    const north: Caller = { key: keyA, iss: SHARED, tenant: 'north' };
    const south: Caller = { key: keyA, iss: SHARED, tenant: 'south' };
    const [card] = await viewPatient(north);
    const receipt = await snoozeThrough(south, 'vitamin-d-back-pain', card!);
    expect(await viewPatient(north)).toHaveLength(1);
    expect(receipt).toMatchObject({ unknownCards: 1 });
  });

  it('feedback through another service is an unknown card', async () => {
    const a: Caller = { key: keyA, iss: HOSPITAL_A, tenant: 'other-service-test' };
    const [card] = await viewPatient(a);
    const receipt = await snoozeThrough(a, 'b12-drug-risk', card!);
    expect(await viewPatient(a)).toHaveLength(1);
    expect(receipt).toMatchObject({ unknownCards: 1 });
  });

  it('the caller who was shown the card, through its service, snoozes the rule', async () => {
    const own: Caller = { key: keyA, iss: SHARED, tenant: 'south' };
    const [card] = await viewPatient(own);
    expect(await snoozeThrough(own, 'vitamin-d-back-pain', card!)).toEqual({
      received: 1,
      stored: 1,
      unknownCards: 0,
    });
    expect(await viewPatient(own)).toEqual([]);
  });

  it('counts the refused items as "unknown" in analytics', async () => {
    const path = '/analytics/cards';
    const response = await app.inject({
      method: 'GET',
      url: `${path}?from=2000-01-01&to=2100-01-01`,
      headers: await headers({ key: keyA, iss: HOSPITAL_A }, path),
    });
    const rules = response.json<{ rules: { serviceId: string; ruleId: string; overridden: number }[] }>()
      .rules;
    expect(rules.filter((row) => row.ruleId === 'unknown')).toEqual([
      expect.objectContaining({ serviceId: 'b12-drug-risk', overridden: 1 }),
      expect.objectContaining({ serviceId: 'vitamin-d-back-pain', overridden: 2 }),
    ]);
  });
});
