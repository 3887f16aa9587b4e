import type { Resource } from '@medplum/fhirtypes';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';

/** A FHIR resource as read, with the size of the body it came from (what the cache counts). */
export interface SizedResource {
  readonly resource: Resource;
  readonly bytes: number;
}

/**
 * Identical FHIR reads within one hook burst (order-select fires on every change of the order) are read
 * once. Keys hash the server, the bearer token and the URL together, so nothing is shared across tokens and
 * no token is kept as a key; failures are not kept. Bounded in entries and in response bytes, and expired
 * entries are dropped, so a hostile or huge server cannot grow it.
 */
export interface FhirReadCache {
  read(
    baseUrl: string,
    token: string | undefined,
    url: string,
    load: () => Promise<SizedResource>,
  ): Promise<SizedResource>;
  /** What the cache holds now. */
  size(): { entries: number; bytes: number };
}

export function createFhirReadCache(options: {
  ttlMs: number;
  maxEntries?: number;
  maxBytes?: number;
  /** The clock expiry is measured on (milliseconds); injected in tests. */
  now?: () => number;
}): FhirReadCache {
  if (options.ttlMs <= 0) {
    return { read: (_baseUrl, _token, _url, load) => load(), size: () => ({ entries: 0, bytes: 0 }) };
  }
  const cache = new LRUCache<string, SizedResource, () => Promise<SizedResource>>({
    max: options.maxEntries ?? 1000,
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    // A resource's parsed size is not known; its body size is a fair, cheap proxy.
    sizeCalculation: (value) => Math.max(1, value.bytes),
    ttl: options.ttlMs,
    ttlAutopurge: true,
    // An injected clock is read on every check (lru-cache otherwise caches it for a millisecond).
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    // Concurrent reads of one key share one load (lru-cache dedupes in-flight fetches).
    fetchMethod: (_key, _stale, { context }) => context(),
    // lru-cache aborts a load in flight when its key leaves the cache: the old entry's expiry timer firing
    // while a read refreshes it, eviction by count or size, clear(). Every read waiting on it then failed
    // ("deleted", "evicted"). Let the load finish and answer its readers; its value is simply not kept.
    ignoreFetchAbort: true,
  });
  return {
    async read(baseUrl, token, url, load) {
      const key = createHash('sha256')
        .update(`${baseUrl}\n${token ?? ''}\n${url}`)
        .digest('base64');
      const value = await cache.fetch(key, { context: load });
      // lru-cache's type allows undefined, but our loads always resolve to a value or reject.
      return value ?? load();
    },
    size: () => ({ entries: cache.size, bytes: cache.calculatedSize }),
  };
}
