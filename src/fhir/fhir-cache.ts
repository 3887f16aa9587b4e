import type { Resource } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';

/**
 * Identical FHIR reads within one hook burst (order-select fires on every change of the order) are read
 * once. Keys hash the server, the bearer token and the URL together, so nothing is shared across tokens and
 * no token is kept as a key; failures are not kept.
 */
export interface FhirReadCache {
  read(
    baseUrl: string,
    token: string | undefined,
    url: string,
    load: () => Promise<Resource>,
  ): Promise<Resource>;
}

export function createFhirReadCache(options: {
  ttlMs: number;
  maxEntries?: number;
  now?: () => number;
}): FhirReadCache {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<string, { expires: number; value: Promise<Resource> }>();
  return {
    read(baseUrl, token, url, load) {
      if (options.ttlMs <= 0) {
        return load();
      }
      const key = createHash('sha256')
        .update(`${baseUrl}\n${token ?? ''}\n${url}`)
        .digest('base64');
      const hit = entries.get(key);
      if (hit && hit.expires > now()) {
        return hit.value;
      }
      const value = load();
      value.catch(() => entries.delete(key));
      entries.delete(key);
      entries.set(key, { expires: now() + options.ttlMs, value });
      // Map keeps insertion order: the first key is the oldest.
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) {
          break;
        }
        entries.delete(oldest);
      }
      return value;
    },
  };
}
