import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from './build-app.js';
import { listeningBaseUrl, probeEventLoop } from './event-loop-probe.js';

let app: FastifyInstance;
let baseUrl: string;
beforeAll(async () => {
  app = await buildTestApp();
  // Stand-ins for a hostile request: one that holds the event loop, one that only waits.
  app.get('/test/block', () => {
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // Busy on purpose: this is the blocking the probe must see.
    }
    return { blocked: true };
  });
  app.get('/test/wait', async () => {
    await sleep(300);
    return { waited: true };
  });
  baseUrl = await listeningBaseUrl(app);
});
afterAll(async () => {
  await app.close();
});

describe('probeEventLoop', () => {
  it('sees a request that blocks the event loop', async () => {
    const probe = await probeEventLoop(baseUrl, async () => (await fetch(`${baseUrl}/test/block`)).status);
    expect(probe.result).toBe(200);
    expect(probe.samples).toBeGreaterThan(0);
    // A lower bound only: the poll in flight cannot be answered before the 300 ms block ends.
    expect(probe.worstHealthzMs).toBeGreaterThanOrEqual(250);
  });

  it('keeps polling while a request waits without blocking', async () => {
    const probe = await probeEventLoop(baseUrl, async () => (await fetch(`${baseUrl}/test/wait`)).status);
    expect(probe.result).toBe(200);
    // Many answers during the 300 ms wait show that /healthz was served meanwhile.
    expect(probe.samples).toBeGreaterThan(3);
  });

  it('passes on the work error', async () => {
    await expect(probeEventLoop(baseUrl, () => Promise.reject(new Error('work failed')))).rejects.toThrow(
      'work failed',
    );
  });
});
