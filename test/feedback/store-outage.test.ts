import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer, type Server, type Socket, connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chronicLowBackPain, NOW, patient } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor, viewBackPainPatient } from '../helpers/build-app.js';
import { freePort } from '../helpers/free-port.js';
import { createTemporaryDatabase, postgresUnavailable } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PG_PORT = Number(/:(\d+)\//.exec(process.env['PG_ADMIN_URL'] ?? '')?.[1] ?? 5432);
const HASH_KEY = 'outage-test-hash-key-0123456789abcdef';
// Trust auth ignores it; it is here so the test can prove no log line ever shows it.
const PASSWORD = 'pw-outage-Zq81xK';

/** A TCP proxy in front of PostgreSQL that the test can cut (every connection dropped, new ones refused). */
async function startProxy(): Promise<{
  port: number;
  cut: () => Promise<void>;
  restore: () => Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(PG_PORT, '127.0.0.1');
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        resolve((server!.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    port,
    cut: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }
      sockets.clear();
      await new Promise((resolve) => server?.close(resolve));
    },
    restore: async () => {
      await listen(port);
    },
  };
}

let skip: string | undefined;
let database: { url: string; drop: () => Promise<void> } | undefined;

beforeAll(async () => {
  skip = await postgresUnavailable();
  if (!skip) {
    database = await createTemporaryDatabase();
  }
});
afterAll(async () => {
  await database?.drop();
});

/** The temporary database's URL through the proxy, with a password in it. */
const throughProxy = (port: number) =>
  database!.url.replace(/\/\/[^/]*\//, `//postgres:${PASSWORD}@127.0.0.1:${port}/`);

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const snoozeFeedback = (card: string, at: Date) => ({
  feedback: [
    {
      card,
      outcome: 'overridden',
      overrideReason: {
        reason: {
          system: 'https://vitamin-cds.example.org/fhir/CodeSystem/override-reason',
          code: 'tested-elsewhere',
        },
      },
      outcomeTimestamp: at.toISOString(),
    },
  ],
});

const postFeedback = (app: FastifyInstance, body: unknown) =>
  app.inject({ method: 'POST', url: '/cds-services/vitamin-d-back-pain/feedback', payload: body as object });

const metric = async (app: FastifyInstance, name: string) => {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

async function storedCards(cards: readonly string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: database!.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ card_uuid: string }>(
      'SELECT card_uuid FROM feedback WHERE card_uuid = ANY($1)',
      [cards],
    );
    return rows.map((row) => row.card_uuid);
  } finally {
    await client.end();
  }
}

describe('a database outage', () => {
  it('keeps hook calls answering, refuses feedback with 503, and resumes without a restart', async (context) => {
    if (skip) {
      return context.skip(skip);
    }
    const proxy = await startProxy();
    const lines: string[] = [];
    let clock = NOW;
    const app = await buildTestApp({
      env: { DATABASE_URL: throughProxy(proxy.port), FEEDBACK_HASH_KEY: HASH_KEY },
      deps: {
        loggerInstance: pino({ level: 'trace' }, { write: (line: string) => lines.push(line) }),
        now: () => clock,
      },
    });
    // Each step moves past the 5-second snooze cache, so every call reads the store afresh.
    const later = () => {
      clock = new Date(clock.getTime() + 10_000);
    };
    try {
      // Healthy: a snooze hides the card.
      const [card] = await viewBackPainPatient(app, 'outage-a');
      expect((await postFeedback(app, snoozeFeedback(card!.uuid, clock))).statusCode).toBe(200);
      later();
      expect(await viewBackPainPatient(app, 'outage-a')).toEqual([]);
      expect(await metric(app, 'cds_feedback_store_up')).toBe(1);

      await proxy.cut();
      later();
      // Cards are shown, unsnoozed, and the skip is counted.
      expect(await viewBackPainPatient(app, 'outage-a')).toHaveLength(1);
      const [unrecorded] = await viewBackPainPatient(app, 'outage-b');
      expect(await metric(app, 'cds_feedback_store_up')).toBe(0);
      expect(await metric(app, 'cds_snooze_reads_skipped_total')).toBeGreaterThanOrEqual(1);
      // Feedback is refused, with when to retry, and nothing is acknowledged.
      const refused = await postFeedback(app, snoozeFeedback(unrecorded!.uuid, clock));
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.json<{ code: string }>().code).toBe('CDS_FEEDBACK_STORE_UNAVAILABLE');
      // Still ready: the service can advise; /healthz answers.
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect(await storedCards([unrecorded!.uuid])).toEqual([]);

      await proxy.restore();
      // The card shown during the outage was kept for a retry, so its feedback is tied to it and snoozes.
      await waitFor(
        async () => (await postFeedback(app, snoozeFeedback(unrecorded!.uuid, clock))).statusCode === 200,
      );
      expect(await storedCards([unrecorded!.uuid])).toEqual([unrecorded!.uuid]);
      expect(await metric(app, 'cds_feedback_store_up')).toBe(1);
      later();
      expect(await viewBackPainPatient(app, 'outage-a')).toEqual([]);
      expect(await viewBackPainPatient(app, 'outage-b')).toEqual([]);
    } finally {
      await app.close();
      await proxy.cut();
    }
    const all = lines.join('\n');
    expect(all).toMatch(/feedback store unreachable/);
    expect(all).toMatch(/feedback store reachable again/);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toMatch(/postgres(ql)?:\/\//);
    expect(all).not.toMatch(/"client"|connectionParameters|_connectionString|"pool"/);
  }, 60_000);

  it('does not stop the start: the store comes up when the database does', async (context) => {
    if (skip) {
      return context.skip(skip);
    }
    const proxy = await startProxy();
    await proxy.cut();
    const app = await buildTestApp({
      env: { DATABASE_URL: throughProxy(proxy.port), FEEDBACK_HASH_KEY: HASH_KEY },
    });
    try {
      const [card] = await viewBackPainPatient(app, 'outage-c');
      expect(card).toBeDefined();
      expect((await postFeedback(app, snoozeFeedback(card!.uuid, NOW))).statusCode).toBe(503);
      await proxy.restore();
      await waitFor(
        async () => (await postFeedback(app, snoozeFeedback(card!.uuid, NOW))).statusCode === 200,
      );
    } finally {
      await app.close();
      await proxy.cut();
    }
  }, 60_000);
});

describe('the server process', () => {
  it('never exits because the database went away, and never logs its password', async (context) => {
    if (skip) {
      return context.skip(skip);
    }
    const proxy = await startProxy();
    const port = await freePort();
    let output = '';
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        DATABASE_URL: throughProxy(proxy.port),
        FEEDBACK_HASH_KEY: HASH_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, 30_000);
      // Pool connections exist (a snooze read and a shown-card write), then the database goes away.
      const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
      const call = () =>
        fetch(`${url}/cds-services/vitamin-d-back-pain`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            hook: 'patient-view',
            hookInstance: crypto.randomUUID(),
            context: { userId: 'Practitioner/1', patientId: 'outage-d' },
            prefetch: prefetchFor(
              templates,
              [patient('outage-d'), chronicLowBackPain({ patientId: 'outage-d' })],
              'outage-d',
            ),
          }),
        });
      expect((await call()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(child.exitCode).toBeNull();
      expect((await call()).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
      await proxy.cut();
    }
    expect(output).not.toMatch(/closing after an error/);
    expect(output).not.toContain(PASSWORD);
  }, 60_000);
});
