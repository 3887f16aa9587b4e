import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

/**
 * The Redis connection shared by the replay memory and the rate limits. Commands fail at once while it is
 * down (no offline queue, one attempt, a short timeout), so a call never waits on Redis: each user decides
 * how to go on without it. ioredis reconnects by itself.
 */
export async function openRedis(
  url: string,
  keyPrefix: string,
  log: FastifyBaseLogger,
  readyWithinMs = 2000,
): Promise<Redis> {
  const redis = new Redis(url, {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastLogged = 0;
  redis.on('error', (error: Error) => {
    // The URL may carry a password: log only what went wrong, at most once a minute.
    if (Date.now() - lastLogged > 60_000) {
      lastLogged = Date.now();
      log.warn({ reason: error.message }, 'Redis unreachable');
    }
  });
  // Wait a little for the first connection, so the first calls share state; never refuse to start.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, readyWithinMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return redis;
}

/** Closes without waiting on a server that is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => {
      redis.disconnect();
    });
  } else {
    redis.disconnect();
  }
}
