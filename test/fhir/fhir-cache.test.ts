import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFhirReadCache, type SizedResource } from '../../src/fhir/fhir-cache.js';
import { createFhirReader } from '../../src/fhir/fhir-reader.js';
import { chronicLowBackPain, patient } from '../helpers/builders.js';
import { buildTestApp } from '../helpers/build-app.js';
import { type FakeFhirServer, startFakeFhirServer } from '../helpers/fake-fhir-server.js';

/** A FHIR read that answers when the test says so. */
function heldLoad() {
  const settle = Promise.withResolvers<SizedResource>();
  return { load: () => settle.promise, resolve: settle.resolve, reject: settle.reject };
}

describe('createFhirReadCache', () => {
  const resource: Resource = { resourceType: 'Patient', id: 'p' };
  const sized = { resource, bytes: 40 };

  it('reads an identical query once within the TTL, and again after it', async () => {
    let clock = 5000;
    let loads = 0;
    const cache = createFhirReadCache({ ttlMs: 1000, now: () => clock });
    const load = async () => {
      loads++;
      return sized;
    };
    await cache.read('https://fhir/', 'token-a', 'https://fhir/Patient/p', load);
    await cache.read('https://fhir/', 'token-a', 'https://fhir/Patient/p', load);
    expect(loads).toBe(1);
    clock = 6001;
    await cache.read('https://fhir/', 'token-a', 'https://fhir/Patient/p', load);
    expect(loads).toBe(2);
  });

  it('never shares a read across tokens or servers', async () => {
    let loads = 0;
    const cache = createFhirReadCache({ ttlMs: 10_000 });
    const load = async () => {
      loads++;
      return sized;
    };
    await cache.read('https://fhir/', 'token-a', 'https://fhir/Patient/p', load);
    await cache.read('https://fhir/', 'token-b', 'https://fhir/Patient/p', load);
    await cache.read('https://fhir/', undefined, 'https://fhir/Patient/p', load);
    await cache.read('https://other/', 'token-a', 'https://fhir/Patient/p', load);
    expect(loads).toBe(4);
  });

  it('does not keep failures', async () => {
    const cache = createFhirReadCache({ ttlMs: 10_000 });
    await expect(
      cache.read('https://fhir/', 't', 'u', () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    await expect(cache.read('https://fhir/', 't', 'u', async () => sized)).resolves.toBe(sized);
  });

  it('is bounded', async () => {
    let loads = 0;
    const cache = createFhirReadCache({ ttlMs: 10_000, maxEntries: 2 });
    const load = async () => {
      loads++;
      return sized;
    };
    for (const url of ['a', 'b', 'c', 'a']) {
      await cache.read('https://fhir/', 't', url, load);
    }
    expect(loads).toBe(4);
  });

  it('is bounded in bytes: a large response pushes out older ones, one larger than the bound is not kept', async () => {
    let loads = 0;
    const cache = createFhirReadCache({ ttlMs: 10_000, maxBytes: 100 });
    const load = (bytes: number) => async () => {
      loads++;
      return { resource, bytes };
    };
    await cache.read('https://fhir/', 't', 'a', load(60));
    await cache.read('https://fhir/', 't', 'b', load(60));
    expect(cache.size()).toEqual({ entries: 1, bytes: 60 });
    await cache.read('https://fhir/', 't', 'a', load(60));
    expect(loads).toBe(3);
    await expect(cache.read('https://fhir/', 't', 'huge', load(1000))).resolves.toMatchObject({
      bytes: 1000,
    });
    expect(cache.size().bytes).toBeLessThanOrEqual(100);
  });

  it('drops expired entries without being read again', async () => {
    const cache = createFhirReadCache({ ttlMs: 30 });
    await cache.read('https://fhir/', 't', 'a', async () => sized);
    expect(cache.size().entries).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(cache.size()).toEqual({ entries: 0, bytes: 0 });
  });

  it('answers a read that was refreshing an expired entry when the expiry timer removed it', async () => {
    // Seen under load in `npm run bench` (burst cache): the read for an expired entry replaced it with a
    // load in flight, then the entry's expiry timer fired, deleted the key and aborted the load, and every
    // call waiting on it answered 500.
    let clock = 5000;
    const cache = createFhirReadCache({ ttlMs: 20, now: () => clock });
    await cache.read('https://fhir/', 't', 'a', async () => sized);
    clock += 1000;
    const held = heldLoad();
    const fresh: SizedResource = { resource: { resourceType: 'Patient', id: 'fresh' }, bytes: 40 };
    const refreshing = cache.read('https://fhir/', 't', 'a', held.load);
    await new Promise((resolve) => setTimeout(resolve, 80));
    held.resolve(fresh);
    await expect(refreshing).resolves.toBe(fresh);
  });

  it('answers a read whose entry is evicted while it loads, and still fails a load that fails', async () => {
    const cache = createFhirReadCache({ ttlMs: 10_000, maxEntries: 1 });
    const [slowLoad, failingLoad] = [heldLoad(), heldLoad()];
    const slow = cache.read('https://fhir/', 't', 'a', slowLoad.load);
    const failing = cache.read('https://fhir/', 't', 'b', failingLoad.load);
    // Each new key evicts the one before it, in flight or not.
    await cache.read('https://fhir/', 't', 'c', async () => sized);
    slowLoad.resolve(sized);
    failingLoad.reject(new Error('FHIR server down'));
    await expect(slow).resolves.toBe(sized);
    await expect(failing).rejects.toThrow('FHIR server down');
  });

  it('shares one load between concurrent identical reads', async () => {
    let loads = 0;
    const cache = createFhirReadCache({ ttlMs: 10_000 });
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return sized;
    };
    await Promise.all([1, 2, 3].map(() => cache.read('https://fhir/', 't', 'a', load)));
    expect(loads).toBe(1);
  });
});

describe('a read shared by calls with different deadlines', () => {
  it("goes on for a later call when the first call's deadline passes (a slow server in an order-select burst)", async () => {
    const answer = Promise.withResolvers<undefined>();
    let fetches = 0;
    /** A server that answers when the test says so, and drops the request when its caller aborts it. */
    const slowFetch = (async (_url: string, init: RequestInit) => {
      fetches++;
      await new Promise<void>((resolve, reject) => {
        void answer.promise.then(resolve);
        init.signal?.addEventListener('abort', () => {
          reject(init.signal?.reason as Error);
        });
      });
      return new Response(JSON.stringify(patient('pt-1')), { status: 200 });
    }) as typeof fetch;
    const reader = createFhirReader({
      fhirServer: 'https://fhir.example.org/r4',
      accessToken: 'token',
      deadlineMs: 2000,
      maxResponseBytes: 100_000,
      fetch: slowFetch,
      cache: createFhirReadCache({ ttlMs: 10_000 }),
    });
    const [first, second] = [new AbortController(), new AbortController()];
    const firstRead = reader.read('Patient/pt-1', first.signal);
    const secondRead = reader.read('Patient/pt-1', second.signal);
    first.abort(new DOMException('deadline', 'TimeoutError'));
    await expect(firstRead).rejects.toThrow(/no answer within 2000 ms/);
    answer.resolve(undefined);
    await expect(secondRead).resolves.toMatchObject({ resourceType: 'Patient', id: 'pt-1' });
    expect(fetches).toBe(1);
  });
});

describe('a burst of identical hook calls', () => {
  let fhir: FakeFhirServer;
  beforeAll(async () => {
    fhir = await startFakeFhirServer({ resources: [patient('pt-1'), chronicLowBackPain()] });
  });
  afterAll(async () => {
    await fhir.close();
  });

  it('reads the FHIR server once per token', async () => {
    const app = await buildTestApp({ env: { FHIR_CACHE_TTL_MS: '10000' } });
    const call = (token: string) =>
      app.inject({
        method: 'POST',
        url: '/cds-services/vitamin-d-back-pain',
        payload: {
          hook: 'patient-view',
          hookInstance: crypto.randomUUID(),
          fhirServer: fhir.baseUrl,
          fhirAuthorization: {
            access_token: token,
            token_type: 'Bearer',
            expires_in: 300,
            scope: 'user/*.read',
            subject: 'cds',
          },
          context: { userId: 'Practitioner/1', patientId: 'pt-1' },
        },
      });
    try {
      const first = await call('token-one');
      expect(first.statusCode).toBe(200);
      const perCall = fhir.requests.length;
      expect(perCall).toBe(8);
      const again = await call('token-one');
      expect(again.json()).toEqual({ cards: expect.any(Array) });
      expect(fhir.requests.length).toBe(perCall);
      await call('token-two');
      expect(fhir.requests.length).toBe(2 * perCall);
      expect(
        fhir.requests.slice(perCall).every((request) => request.authorization === 'Bearer token-two'),
      ).toBe(true);
    } finally {
      await app.close();
    }
  });
});
