import { Redis } from 'ioredis';

/** The local Redis of our machines; REDIS_TEST_URL overrides it. */
export const REDIS_TEST_URL = process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379';

/** Undefined when Redis answers, else why not (the Redis half of a suite then skips). */
export async function redisUnavailable(): Promise<string | undefined> {
  const redis = new Redis(REDIS_TEST_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `Redis not reachable at ${REDIS_TEST_URL}: ${(error as Error).message}`;
  } finally {
    redis.disconnect();
  }
}

/** A key prefix no other test (or run) uses, removed with `dropKeys`. */
export function uniquePrefix(name: string): string {
  return `test:${name}:${Date.now()}:${Math.floor(Math.random() * 1e9)}:`;
}

/** Deletes every key under a prefix. */
export async function dropKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 0 });
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}
