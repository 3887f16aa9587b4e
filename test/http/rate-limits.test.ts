import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-app.js';
import { makeKey, signToken, type TestKey } from '../helpers/jwt.js';
import { dropKeys, REDIS_TEST_URL, redisUnavailable, uniquePrefix } from '../helpers/redis.js';

const BASE = 'https://cds.example.org';
const OPEN_ISS = 'https://ehr.example.org';
const TENANTED_ISS = 'https://tenanted.example.org';
const DISCOVERY = `${BASE}/cds-services`;

let key: TestKey;
let forger: TestKey;
let redisSkip: string | undefined;
const prefix = uniquePrefix('rate-limits');

beforeAll(async () => {
  [key, forger] = await Promise.all([makeKey('ES384', 'es-1'), makeKey('ES384', 'es-1')]);
  redisSkip = await redisUnavailable();
});
afterAll(async () => {
  if (!redisSkip) {
    await dropKeys(prefix);
  }
});

const authEnv = (extra: Record<string, string> = {}) => ({
  PUBLIC_BASE_URL: BASE,
  AUTH_ISSUERS: JSON.stringify([
    { iss: OPEN_ISS, jwks: { keys: [key.publicJwk] } },
    { iss: TENANTED_ISS, jwks: { keys: [key.publicJwk] }, tenants: ['hospital-a', 'hospital-b'] },
  ]),
  ...extra,
});

const discover = (app: FastifyInstance, token: string, forwardedFor?: string) =>
  app.inject({
    method: 'GET',
    url: '/cds-services',
    headers: {
      authorization: `Bearer ${token}`,
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
  });

/** A logger that keeps every line, to count them. */
function capturingLogger() {
  const lines: { level: number; msg: string; req?: { remoteAddress?: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('per-client rate limits', () => {
  it('ignore the tenant claim of an issuer without a tenant list (issue 15, item 8)', async () => {
    const app = await buildTestApp({ env: authEnv({ RATE_LIMIT_MAX: '3' }), now: new Date() });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const token = await signToken(key, { iss: OPEN_ISS, aud: DISCOVERY, tenant: `rotated-${i}` });
        statuses.push((await discover(app, token)).statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await app.close();
    }
  });

  it('keep one bucket per listed tenant of an issuer with a tenant list', async () => {
    const app = await buildTestApp({ env: authEnv({ RATE_LIMIT_MAX: '2' }), now: new Date() });
    try {
      const as = async (tenant: string) =>
        (await discover(app, await signToken(key, { iss: TENANTED_ISS, aud: DISCOVERY, tenant }))).statusCode;
      expect([await as('hospital-a'), await as('hospital-a'), await as('hospital-a')]).toEqual([
        200, 200, 429,
      ]);
      expect(await as('hospital-b')).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('failed authentications (issue 15, item 8)', () => {
  it('answer 429 past the per-address limit, with a bounded number of log lines', async () => {
    const { logger, lines } = capturingLogger();
    const app = await buildTestApp({
      env: authEnv({ AUTH_FAILURE_LIMIT: '10', TRUST_PROXY: 'true' }),
      now: new Date(),
      deps: { loggerInstance: logger },
    });
    try {
      const forged = await Promise.all(
        Array.from({ length: 200 }, () => signToken(forger, { iss: OPEN_ISS, aud: DISCOVERY })),
      );
      const statuses = new Map<number, number>();
      for (let batch = 0; batch < forged.length; batch += 20) {
        const responses = await Promise.all(
          forged.slice(batch, batch + 20).map((token) => discover(app, token, '203.0.113.7')),
        );
        for (const response of responses) {
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        }
      }
      // Concurrent requests read the count before the earlier ones add to it: at most one batch over.
      expect(statuses.get(401)).toBeGreaterThanOrEqual(10);
      expect(statuses.get(401)).toBeLessThanOrEqual(30);
      expect(statuses.get(429)).toBe(200 - (statuses.get(401) ?? 0));

      const limited = await discover(app, forged[0]!, '203.0.113.7');
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json<{ code: string }>().code).toBe('CDS_TOO_MANY_FAILED_AUTHENTICATIONS');

      const failureLines = lines.filter((line) => line.msg === 'authentication failed');
      expect(failureLines.length).toBe(statuses.get(401));
      expect(lines.filter((line) => line.level >= 40).length).toBeLessThanOrEqual(
        (statuses.get(401) ?? 0) + 1,
      );

      // The limit is per address: another client is not held back by this one.
      const good = await signToken(key, { iss: OPEN_ISS, aud: DISCOVERY });
      expect((await discover(app, good, '198.51.100.4')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('TRUST_PROXY', () => {
  const call = (app: FastifyInstance, forwardedFor: string) =>
    app.inject({ method: 'GET', url: '/cds-services', headers: { 'x-forwarded-for': forwardedFor } });

  it('limits and logs by the forwarded address behind a trusted load balancer', async () => {
    const { logger, lines } = capturingLogger();
    const app = await buildTestApp({
      env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.1' },
      deps: { loggerInstance: logger },
    });
    try {
      expect([
        (await call(app, '10.0.0.1')).statusCode,
        (await call(app, '10.0.0.1')).statusCode,
        (await call(app, '10.0.0.1')).statusCode,
        (await call(app, '10.0.0.2')).statusCode,
      ]).toEqual([200, 200, 429, 200]);
      expect(lines.some((line) => line.req?.remoteAddress === '10.0.0.2')).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('ignores X-Forwarded-For by default, so a client cannot pick its own bucket', async () => {
    const app = await buildTestApp({ env: { RATE_LIMIT_MAX: '2' } });
    try {
      expect([
        (await call(app, '10.0.0.1')).statusCode,
        (await call(app, '10.0.0.2')).statusCode,
        (await call(app, '10.0.0.3')).statusCode,
      ]).toEqual([200, 200, 429]);
    } finally {
      await app.close();
    }
  });
});

describe('with Redis', () => {
  it('the replicas share one count per client', async (context) => {
    if (redisSkip) {
      return context.skip(redisSkip);
    }
    const env = authEnv({ RATE_LIMIT_MAX: '3', REDIS_URL: REDIS_TEST_URL, REDIS_KEY_PREFIX: prefix });
    const [first, second] = await Promise.all([
      buildTestApp({ env, now: new Date() }),
      buildTestApp({ env, now: new Date() }),
    ]);
    try {
      const token = () => signToken(key, { iss: OPEN_ISS, aud: DISCOVERY });
      expect([
        (await discover(first, await token())).statusCode,
        (await discover(second, await token())).statusCode,
        (await discover(first, await token())).statusCode,
        (await discover(second, await token())).statusCode,
      ]).toEqual([200, 200, 200, 429]);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
