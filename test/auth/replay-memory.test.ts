import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalReplayMemory,
  createPostgresReplayMemory,
  createRedisReplayMemory,
  type ReplayMemory,
  withLocalFallback,
} from '../../src/auth/replay-memory.js';
import { chronicLowBackPain } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';
import { freePort } from '../helpers/free-port.js';
import { makeKey, signToken, type TestKey } from '../helpers/jwt.js';
import { createTemporaryDatabase, postgresUnavailable } from '../helpers/postgres.js';
import { dropKeys, REDIS_TEST_URL, redisUnavailable, uniquePrefix } from '../helpers/redis.js';

const BASE = 'https://cds.example.org';
const ISS = 'https://ehr.example.org';
const SERVICE_URL = `${BASE}/cds-services/vitamin-d-back-pain`;
const HASH_KEY = 'replay-test-hash-key-0123456789abcdef';

let key: TestKey;
let body: Record<string, unknown>;
let redisSkip: string | undefined;
let postgresSkip: string | undefined;
let database: { url: string; drop: () => Promise<void> } | undefined;
const prefix = uniquePrefix('replay');

beforeAll(async () => {
  key = await makeKey('ES384', 'es-1');
  const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
  body = {
    hook: 'patient-view',
    hookInstance: '7c1f7a2e-5b7d-4f0e-9a57-6f4a3c1b2e90',
    context: { userId: 'Practitioner/dr-1', patientId: 'pt-1' },
    prefetch: prefetchFor(templates, [chronicLowBackPain()]),
  };
  [redisSkip, postgresSkip] = await Promise.all([redisUnavailable(), postgresUnavailable()]);
  if (!postgresSkip) {
    database = await createTemporaryDatabase();
  }
});
afterAll(async () => {
  await database?.drop();
  if (!redisSkip) {
    await dropKeys(prefix);
  }
});

const authEnv = (extra: Record<string, string> = {}) => ({
  PUBLIC_BASE_URL: BASE,
  AUTH_ISSUERS: JSON.stringify([{ iss: ISS, jwks: { keys: [key.publicJwk] } }]),
  ...extra,
});

const call = (app: FastifyInstance, token: string) =>
  app.inject({
    method: 'POST',
    url: '/cds-services/vitamin-d-back-pain',
    payload: body,
    headers: { authorization: `Bearer ${token}` },
  });

describe('the local replay memory', () => {
  it('accepts a key once until it expires, then forgets it', async () => {
    let clock = new Date('2026-12-01T10:00:00Z');
    const memory = createLocalReplayMemory(() => clock);
    const expiresAt = clock.getTime() / 1000 + 60;
    expect(await memory.remember('iss a', expiresAt)).toBe(true);
    expect(await memory.remember('iss a', expiresAt)).toBe(false);
    expect(await memory.remember('iss b', expiresAt)).toBe(true);
    clock = new Date(clock.getTime() + 61_000);
    expect(await memory.remember('iss a', expiresAt + 120)).toBe(true);
  });
});

type Backend = [name: string, skip: () => string | undefined, open: () => ReplayMemory];
const backends: Backend[] = [
  [
    'Redis',
    () => redisSkip,
    () => createRedisReplayMemory(new Redis(REDIS_TEST_URL, { keyPrefix: prefix, lazyConnect: false })),
  ],
  ['PostgreSQL', () => postgresSkip, () => createPostgresReplayMemory(database!.url)],
];

describe.each(backends)('the %s replay memory', (_name, skip, open) => {
  it('is shared: a key remembered by one process is refused by another, until it expires', async (context) => {
    if (skip()) {
      return context.skip(skip());
    }
    const [first, second] = [open(), open()];
    try {
      const id = `iss ${crypto.randomUUID()}`;
      const expiresAt = Date.now() / 1000 + 1;
      expect(await first.remember(id, expiresAt)).toBe(true);
      expect(await second.remember(id, expiresAt)).toBe(false);
      expect(await first.remember(id, expiresAt)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await second.remember(id, Date.now() / 1000 + 60)).toBe(true);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('two replicas', () => {
  const replicas: [string, () => string | undefined, () => Record<string, string>][] = [
    ['Redis', () => redisSkip, () => ({ REDIS_URL: REDIS_TEST_URL, REDIS_KEY_PREFIX: prefix })],
    ['PostgreSQL', () => postgresSkip, () => ({ DATABASE_URL: database!.url, FEEDBACK_HASH_KEY: HASH_KEY })],
  ];
  it.for(replicas)(
    'refuse on one a token another accepted (%s)',
    { timeout: 20_000 },
    async ([, skip, env], context) => {
      if (skip()) {
        return context.skip(skip());
      }
      const [first, second] = await Promise.all([
        buildTestApp({ env: authEnv(env()), now: new Date() }),
        buildTestApp({ env: authEnv(env()), now: new Date() }),
      ]);
      try {
        const token = await signToken(key, { iss: ISS, aud: SERVICE_URL });
        expect((await call(first, token)).statusCode).toBe(200);
        expect((await call(second, token)).statusCode).toBe(401);
        expect((await call(first, token)).statusCode).toBe(401);
        const fresh = await signToken(key, { iss: ISS, aud: SERVICE_URL });
        expect((await call(second, fresh)).statusCode).toBe(200);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    },
  );

  it('still refuse replays to the same replica while Redis is unreachable', async () => {
    const port = await freePort();
    const app = await buildTestApp({
      env: authEnv({ REDIS_URL: `redis://127.0.0.1:${port}` }),
      now: new Date(),
    });
    try {
      const token = await signToken(key, { iss: ISS, aud: SERVICE_URL });
      expect((await call(app, token)).statusCode).toBe(200);
      expect((await call(app, token)).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  }, 20_000);
});

describe('the fallback to this process', () => {
  it('counts every call checked without the shared memory', async () => {
    let fallbacks = 0;
    const broken: ReplayMemory = {
      remember: () => Promise.reject(new Error('connect ECONNREFUSED')),
      close: async () => undefined,
    };
    const memory = withLocalFallback(broken, createLocalReplayMemory(), pino({ level: 'silent' }), () => {
      fallbacks++;
    });
    const expiresAt = Date.now() / 1000 + 60;
    expect(await memory.remember('iss a', expiresAt)).toBe(true);
    expect(await memory.remember('iss a', expiresAt)).toBe(false);
    expect(fallbacks).toBe(1);
  });
});

describe('the jti claim (issue 15, item 12)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp({ env: authEnv(), now: new Date() });
  });
  afterAll(async () => {
    await app.close();
  });

  const tokenWithJti = (jti: unknown) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ jti } as Record<string, unknown>)
      .setProtectedHeader({ alg: 'ES384', kid: key.kid, typ: 'JWT' })
      .setIssuer(ISS)
      .setAudience(SERVICE_URL)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(key.privateKey);
  };

  it.each([
    ['an object', { id: 'x' }],
    ['a number', 42],
    ['an array', ['a']],
    ['an empty string', ''],
    ['a string of 257 characters', 'j'.repeat(257)],
  ])('refuses %s with a 401', async (_name, jti) => {
    expect((await call(app, await tokenWithJti(jti))).statusCode).toBe(401);
  });

  it('accepts a string of 256 characters', async () => {
    expect((await call(app, await tokenWithJti(`${crypto.randomUUID()}${'j'.repeat(220)}`))).statusCode).toBe(
      200,
    );
  });
});
