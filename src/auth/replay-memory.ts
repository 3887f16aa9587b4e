import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import pg from 'pg';

/**
 * Where accepted token ids (`jti`) are kept until their token expires, so each is accepted once. Every call
 * costs O(1): a TTL cache in the process, `SET NX` with an expiry in Redis, or one upsert in PostgreSQL.
 */
export interface ReplayMemory {
  /** Remembers `key` until `expiresAtSeconds` (Unix time); false when it is already remembered. */
  remember(key: string, expiresAtSeconds: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Enough for 500 calls a second with five-minute tokens. When full, the entry inserted first is dropped
 * before it expires: that one token could be replayed, which beats refusing every caller or growing without
 * bound. Deployments with several replicas use Redis or PostgreSQL, which have no such cap.
 */
const LOCAL_MAX_ENTRIES = 200_000;

/** The memory of one process: a TTL cache whose entries expire with their tokens. */
export function createLocalReplayMemory(now: () => Date = () => new Date()): ReplayMemory {
  const seen = new LRUCache<string, true>({
    max: LOCAL_MAX_ENTRIES,
    // Expiry is read from the verifier's clock (injected in tests), not cached between calls.
    perf: { now: () => now().getTime() },
    ttlResolution: 0,
  });
  return {
    async remember(key, expiresAtSeconds) {
      if (seen.has(key)) {
        return false;
      }
      const ttl = Math.ceil(expiresAtSeconds * 1000 - now().getTime());
      if (ttl > 0) {
        seen.set(key, true, { ttl });
      }
      return true;
    },
    async close() {
      seen.clear();
    },
  };
}

/** Shared by every replica: one `SET NX PX` per call; Redis drops the key when the token expires. */
export function createRedisReplayMemory(redis: Redis, now: () => Date = () => new Date()): ReplayMemory {
  return {
    async remember(key, expiresAtSeconds) {
      const ttl = Math.ceil(expiresAtSeconds * 1000 - now().getTime());
      if (ttl <= 0) {
        return true;
      }
      return (await redis.set(`jti:${key}`, '1', 'PX', ttl, 'NX')) === 'OK';
    },
    async close() {
      // The Redis connection belongs to the app, which closes it.
    },
  };
}

/** Any fixed number: replicas starting together take turns to create the table. */
const TABLE_LOCK = 712_309_115;
const PRUNE_EVERY_MS = 60_000;

/**
 * Shared by every replica through PostgreSQL when there is no Redis: one upsert per call that succeeds only
 * when the key is new or its token has expired; expired rows are pruned every minute.
 */
export function createPostgresReplayMemory(
  connectionString: string,
  now: () => Date = () => new Date(),
): ReplayMemory {
  const pool = new pg.Pool({
    connectionString,
    max: 4,
    connectionTimeoutMillis: 1000,
    query_timeout: 2000,
  });
  // Idle clients dropped by a database restart: the next query reconnects; without a listener it would crash.
  pool.on('error', () => undefined);
  let table: Promise<void> | undefined;
  const ensureTable = () => {
    table ??= (async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [TABLE_LOCK]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS auth_replay (key TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL);
           CREATE INDEX IF NOT EXISTS auth_replay_expires_at ON auth_replay (expires_at)`,
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    })().catch((error: unknown) => {
      table = undefined;
      throw error;
    });
    return table;
  };
  const prune = setInterval(() => {
    pool.query('DELETE FROM auth_replay WHERE expires_at < now()').catch(() => undefined);
  }, PRUNE_EVERY_MS);
  prune.unref();
  return {
    async remember(key, expiresAtSeconds) {
      await ensureTable();
      const result = await pool.query(
        `INSERT INTO auth_replay (key, expires_at) VALUES ($1, to_timestamp($2))
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
         WHERE auth_replay.expires_at <= to_timestamp($3)`,
        [key, expiresAtSeconds, now().getTime() / 1000],
      );
      return result.rowCount === 1;
    },
    async close() {
      clearInterval(prune);
      await pool.end();
    },
  };
}

/**
 * The shared memory backed by this process's own: a replay to this replica is refused without a round trip,
 * and while the shared store is unreachable calls are still checked here (a replay to another replica is
 * then possible; refusing every call instead would switch decision support off with the store). Each
 * fallback is counted and logged at most once a minute.
 */
export function withLocalFallback(
  shared: ReplayMemory,
  local: ReplayMemory,
  log: FastifyBaseLogger,
  onFallback: () => void = () => undefined,
): ReplayMemory {
  let lastLogged = 0;
  return {
    async remember(key, expiresAtSeconds) {
      if (!(await local.remember(key, expiresAtSeconds))) {
        return false;
      }
      try {
        return await shared.remember(key, expiresAtSeconds);
      } catch (error) {
        onFallback();
        if (Date.now() - lastLogged > 60_000) {
          lastLogged = Date.now();
          log.warn(
            { reason: error instanceof Error ? error.message : 'unknown' },
            'replay memory unreachable: token ids are checked by this replica only',
          );
        }
        return true;
      }
    },
    async close() {
      await Promise.all([shared.close(), local.close()]);
    },
  };
}

/** Redis when configured, else PostgreSQL when configured, else this process (one replica). */
export function openReplayMemory(options: {
  readonly redis: Redis | null;
  readonly databaseUrl: string | undefined;
  readonly now: () => Date;
  readonly log: FastifyBaseLogger;
  readonly onFallback?: () => void;
}): ReplayMemory {
  const local = createLocalReplayMemory(options.now);
  const shared = options.redis
    ? createRedisReplayMemory(options.redis, options.now)
    : options.databaseUrl
      ? createPostgresReplayMemory(options.databaseUrl, options.now)
      : undefined;
  return shared ? withLocalFallback(shared, local, options.log, options.onFallback) : local;
}
