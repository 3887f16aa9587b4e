import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { createTemporaryDatabase, postgresUnavailable } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) {
        return { child, url };
      }
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not start');
}

/**
 * Sends feedback items, one per request, 16 at a time, and kills the server with SIGKILL once `killAfter`
 * have been acknowledged. Returns the card uuids of every item that got a 2xx.
 */
async function feedbackUntilKilled(url: string, child: ChildProcess, killAfter: number): Promise<string[]> {
  const acknowledged: string[] = [];
  let next = 0;
  const state = { killed: false };
  const worker = async () => {
    while (!state.killed && next < 5000) {
      const card = `kill-card-${next++}`;
      try {
        const response = await fetch(`${url}/cds-services/vitamin-d-back-pain/feedback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            feedback: [{ card, outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }],
          }),
        });
        if (response.ok) {
          acknowledged.push(card);
          if (acknowledged.length === killAfter) {
            state.killed = true;
            child.kill('SIGKILL');
          }
        }
      } catch {
        // in flight when the process died: not acknowledged, so nothing is owed
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => {
      child.once('exit', resolve);
    });
  }
  return acknowledged;
}

describe('feedback acknowledged with a 2xx survives SIGKILL', () => {
  it('SQLite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kill-'));
    try {
      const file = join(dir, 'feedback.sqlite');
      const { child, url } = await startServer({ FEEDBACK_SQLITE_FILE: file });
      const acknowledged = await feedbackUntilKilled(url, child, 150);
      expect(child.signalCode).toBe('SIGKILL');
      expect(acknowledged.length).toBeGreaterThanOrEqual(150);
      const db = new DatabaseSync(file);
      const stored = new Set(
        (db.prepare('SELECT card_uuid FROM feedback').all() as { card_uuid: string }[]).map(
          (row) => row.card_uuid,
        ),
      );
      db.close();
      expect(acknowledged.filter((card) => !stored.has(card))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  let pgSkip: string | undefined;
  beforeAll(async () => {
    pgSkip = await postgresUnavailable();
  });

  it('PostgreSQL', async (context) => {
    if (pgSkip) {
      return context.skip(pgSkip);
    }
    const database = await createTemporaryDatabase();
    try {
      const { child, url } = await startServer({
        DATABASE_URL: database.url,
        FEEDBACK_HASH_KEY: 'kill-test-key-0123456789abcdef0123',
      });
      const acknowledged = await feedbackUntilKilled(url, child, 150);
      expect(child.signalCode).toBe('SIGKILL');
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client.query<{ card_uuid: string }>('SELECT card_uuid FROM feedback');
      await client.end();
      const stored = new Set(rows.map((row) => row.card_uuid));
      expect(acknowledged.filter((card) => !stored.has(card))).toEqual([]);
    } finally {
      await database.drop();
    }
  }, 60_000);
});
