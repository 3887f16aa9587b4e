import type { FastifyBaseLogger } from 'fastify';
import { FeedbackStoreUnavailableError } from '../errors.js';
import type { FeedbackStore } from './feedback-store.js';

/** What an outage of the feedback store has cost so far, for /metrics. */
export interface FeedbackStoreHealth {
  /** False from a failed operation (or a start without the database) until one succeeds. */
  readonly up: boolean;
  /** Calls whose snoozes could not be read, so their cards were shown unsnoozed. */
  readonly snoozeReadsSkipped: number;
  /** Shown cards that could not be recorded and were dropped (the retry buffer was full). */
  readonly shownCardsDropped: number;
}

export interface StoreHealthTracker extends FeedbackStoreHealth {
  markUp(): void;
  /** Records an outage; logs the first failure of each outage (and at most once a minute), never the error object. */
  markDown(error: unknown): void;
  snoozeReadSkipped(): void;
  shownCardsLost(count: number): void;
}

/**
 * SQLSTATE classes that mean the database cannot serve us now (08 connection exception, 53 insufficient
 * resources, 57 operator intervention such as a shutdown or a failover), as opposed to a bug in a query.
 */
const OUTAGE_SQLSTATE = /^(08|53|57)/;
const SQLSTATE = /^[0-9A-Z]{5}$/;
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True for a failure to reach or keep the database: refused, reset, timed out, shut down. */
export function isOutage(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && SQLSTATE.test(code)) {
    return OUTAGE_SQLSTATE.test(code);
  }
  // Node socket errors, and pg's own words for a connection it lost or could not make in time.
  return (
    (typeof code === 'string' && SOCKET_ERRORS.has(code)) ||
    /Connection terminated|connection error|timeout exceeded|Query read timeout|not queryable/i.test(
      error.message,
    )
  );
}

/** A short, safe description: never the error object (pg errors can reach the client and its settings). */
export function describeOutage(error: unknown): string {
  if (!(error instanceof Error)) {
    return 'unknown';
  }
  const code = (error as { code?: unknown }).code;
  const safeCode = typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : undefined;
  // pg and Node messages name hosts and ports, never passwords; cut any URL that might appear all the same.
  const message = error.message.replace(/\w+:\/\/\S+/g, '[url]').slice(0, 200);
  return safeCode ? `${safeCode}: ${message}` : message;
}

export function createStoreHealthTracker(log: FastifyBaseLogger): StoreHealthTracker {
  let up = true;
  let snoozeReadsSkipped = 0;
  let shownCardsDropped = 0;
  let lastLogged = 0;
  return {
    get up() {
      return up;
    },
    get snoozeReadsSkipped() {
      return snoozeReadsSkipped;
    },
    get shownCardsDropped() {
      return shownCardsDropped;
    },
    markUp() {
      if (!up) {
        up = true;
        log.info('feedback store reachable again');
      }
    },
    markDown(error) {
      const now = Date.now();
      if (up || now - lastLogged > 60_000) {
        lastLogged = now;
        log.error(
          { reason: describeOutage(error) },
          'feedback store unreachable: cards are still shown, feedback is refused with 503',
        );
      }
      up = false;
    },
    snoozeReadSkipped() {
      snoozeReadsSkipped++;
    },
    shownCardsLost(count) {
      shownCardsDropped += count;
    },
  };
}

/**
 * The store as the service uses it: an outage becomes a FeedbackStoreUnavailableError (503) and marks the
 * store down; any success marks it up again. Other errors (bugs) pass through unchanged.
 */
export function guardStore(
  store: FeedbackStore,
  health: StoreHealthTracker,
  ready: () => Promise<void>,
): FeedbackStore {
  const guard =
    <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        await ready();
        const result = await operation(...args);
        health.markUp();
        return result;
      } catch (error) {
        if (error instanceof FeedbackStoreUnavailableError || isOutage(error)) {
          health.markDown(error);
          throw error instanceof FeedbackStoreUnavailableError ? error : new FeedbackStoreUnavailableError();
        }
        throw error;
      }
    };
  return {
    kind: store.kind,
    migrate: guard(() => store.migrate()),
    recordShown: guard((cards) => store.recordShown(cards)),
    findShown: guard((uuids) => store.findShown(uuids)),
    saveFeedback: guard((items, snoozes) => store.saveFeedback(items, snoozes)),
    snoozedRules: guard((patientKey, at) => store.snoozedRules(patientKey, at)),
    analytics: guard((from, to) => store.analytics(from, to)),
    prune: guard((before, now) => store.prune(before, now)),
    close: () => store.close(),
  };
}

const MIGRATE_RETRY_MS = 5000;

/**
 * Migrates now if the database answers, else keeps trying in the background: the service starts and
 * advises without its store, which comes up when the database does. Until then every store operation is
 * an outage. A failure that is not an outage (a broken migration) still stops the start.
 */
export async function migrateWhenReachable(
  store: FeedbackStore,
  health: StoreHealthTracker,
  retryMs = MIGRATE_RETRY_MS,
): Promise<{ ready: () => Promise<void>; stop: () => void }> {
  let migrated = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (): Promise<void> => {
    try {
      await store.migrate();
      migrated = true;
      health.markUp();
    } catch (error) {
      if (!isOutage(error)) {
        throw error;
      }
      health.markDown(error);
      timer = setTimeout(() => {
        attempt().catch(() => undefined);
      }, retryMs);
      timer.unref();
    }
  };
  await attempt();
  return {
    ready: async () => {
      if (!migrated) {
        throw new FeedbackStoreUnavailableError();
      }
    },
    stop: () => {
      clearTimeout(timer);
    },
  };
}
