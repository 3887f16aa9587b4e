import { createHash, createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { CdsCardOut } from '../domain/findings.js';
import { DAY_MS } from '../domain/fhir-time.js';
import {
  type AnalyticsRow,
  type FeedbackItem,
  type FeedbackStore,
  type PruneCounts,
  type ShownCard,
  type Snooze,
  UNKNOWN_CARD_RULE,
} from './feedback-store.js';
import { createPostgresStore } from './postgres-store.js';
import { createSqliteStore } from './sqlite-store.js';
import {
  createStoreHealthTracker,
  type FeedbackStoreHealth,
  guardStore,
  migrateWhenReachable,
  type StoreHealthTracker,
} from './store-outage.js';

/** A feedback item as CDS Hooks sends it (already validated). */
export interface WireFeedbackItem {
  readonly card: string;
  readonly outcome: 'accepted' | 'overridden';
  readonly acceptedSuggestions?: readonly { readonly id: string }[] | undefined;
  readonly overrideReason?:
    | {
        readonly reason?: { readonly system: string; readonly code: string } | undefined;
        readonly userComment?: string | undefined;
      }
    | undefined;
  readonly outcomeTimestamp: string;
}

export interface CallerIdentity {
  readonly issuer: string;
  readonly tenant: string;
}

/** Where feedback arrived: the URL's id, and the ids of the entries whose cards that URL may speak for. */
export interface FeedbackTarget {
  readonly id: string;
  readonly cardServiceIds: ReadonlySet<string>;
}

export interface FeedbackReceipt {
  /** Items not stored before (the same item reported twice is kept once). */
  readonly stored: number;
  /** Items for a card this service did not show this caller through this service: kept, never acted on. */
  readonly unknownCards: number;
}

export interface FeedbackService {
  /** A keyed hash of the patient as this caller names it: the store never sees the patient reference. */
  patientKey(caller: CallerIdentity, patientId: string): string;
  /** Remembers the cards a call returned (batched; feedback on them waits for the batch). */
  recordShown(
    cards: readonly CdsCardOut[],
    serviceId: string,
    hookInstance: string,
    patientKey: string,
    caller: CallerIdentity,
    at: Date,
  ): void;
  snoozedRules(patientKey: string, at: Date): Promise<Set<string>>;
  /** Card outcomes per service and rule, counting every card shown so far. */
  analytics(from: Date, to: Date): Promise<AnalyticsRow[]>;
  /**
   * Stores feedback durably and idempotently; resolves once committed. An item counts (and may snooze) only
   * for a card shown to the same issuer and tenant through the same service; any other is an unknown card.
   */
  receive(
    target: FeedbackTarget,
    items: readonly WireFeedbackItem[],
    caller: CallerIdentity,
    now: Date,
  ): Promise<FeedbackReceipt>;
  /** Deletes feedback, shown cards and snoozes past the retention period (runs in the background too). */
  prune(now: Date): Promise<PruneCounts>;
  close(): Promise<void>;
  /** Whether the store is reachable, and what its outages cost (for /metrics). */
  readonly health?: FeedbackStoreHealth;
}

export interface FeedbackSettings {
  readonly snoozeDays: number;
  readonly snoozeReasonCodes: readonly string[];
  readonly retentionDays: number;
  /** How often old feedback is pruned; an hour unless a test says otherwise. */
  readonly pruneIntervalMs?: number | undefined;
}

const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Snoozes change rarely and are read on every call that has something to say: each replica keeps what it
 * read for a few seconds (a snooze stored by another replica takes effect there within this time; one stored
 * here takes effect at once).
 */
const SNOOZE_CACHE_MS = 5000;
const CACHE_LIMIT = 10_000;

/** A Map bounded by dropping everything when full: simple, and enough for keys that recur within seconds. */
function boundedSet<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= CACHE_LIMIT) {
    map.clear();
  }
  map.set(key, value);
  return value;
}

const SHOWN_BATCH_MS = 50;
const SHOWN_BATCH_SIZE = 200;
/** Shown cards kept for a retry while the store is down; older ones are dropped (and counted) past this. */
const SHOWN_RETRY_LIMIT = 10_000;
const SHOWN_RETRY_MS = 5000;
/** While the store is down, one call in this interval tries it; the others skip snoozes at once. */
const SNOOZE_PROBE_MS = 1000;

/** The same item reported twice has the same key, whatever order its fields came in. */
function itemKey(serviceId: string, caller: CallerIdentity, item: WireFeedbackItem): string {
  // The caller is part of the key: another client's identical item must not pre-empt this one's.
  const canonical = JSON.stringify([
    serviceId,
    caller.issuer,
    caller.tenant,
    item.card,
    item.outcome,
    new Date(item.outcomeTimestamp).toISOString(),
    (item.acceptedSuggestions ?? []).map((suggestion) => suggestion.id).sort(),
    item.overrideReason?.reason?.system ?? null,
    item.overrideReason?.reason?.code ?? null,
    item.overrideReason?.userComment ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function createFeedbackService(
  store: FeedbackStore,
  hashKey: Buffer,
  settings: FeedbackSettings,
  log: FastifyBaseLogger,
  health: StoreHealthTracker = createStoreHealthTracker(log),
): FeedbackService {
  let pending: ShownCard[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = pending;
    pending = [];
    if (batch.length > 0) {
      flushing = flushing
        .then(() => store.recordShown(batch))
        .catch((error: unknown) => {
          if (health.up) {
            // Not an outage (a bug): retrying would fail the same way.
            log.error(
              { reason: error instanceof Error ? error.message : 'unknown', cards: batch.length },
              'could not record shown cards',
            );
            return;
          }
          if (closing) {
            health.shownCardsLost(batch.length);
            return;
          }
          // The store is down: kept for a retry (bounded), as feedback on these cards needs them on record.
          const kept = [...batch, ...pending];
          const dropped = Math.max(0, kept.length - SHOWN_RETRY_LIMIT);
          pending = kept.slice(dropped);
          health.shownCardsLost(dropped);
          timer ??= setTimeout(() => void flush(), SHOWN_RETRY_MS);
          timer.unref();
        });
    }
    return flushing;
  }

  const snoozeReasons = new Set(settings.snoozeReasonCodes);
  // A KeyObject made once: handing createHmac the raw bytes re-derives one on every call.
  const key = createSecretKey(hashKey);
  const patientKeys = new Map<string, string>();
  const snoozeCache = new Map<string, { expires: number; rules: Promise<Set<string>> }>();
  let lastSnoozeProbe = 0;
  const withoutSnoozes = () => {
    health.snoozeReadSkipped();
    return new Set<string>();
  };
  async function prune(now: Date): Promise<PruneCounts> {
    await flush();
    return store.prune(new Date(now.getTime() - settings.retentionDays * DAY_MS), now);
  }
  // Retention runs in the background, never in a request; a failure is logged and retried next time.
  const pruneTimer = setInterval(() => {
    prune(new Date())
      .then((counts) => {
        if (counts.feedback + counts.shownCards > 0) {
          log.info(counts, 'pruned feedback past the retention period');
        }
      })
      .catch((error: unknown) => {
        log.warn({ err: error }, 'could not prune old feedback');
      });
  }, settings.pruneIntervalMs ?? PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  return {
    health,
    patientKey(caller, patientId) {
      const reference = `${caller.issuer}\n${caller.tenant}\nPatient/${patientId}`;
      return (
        patientKeys.get(reference) ??
        boundedSet(patientKeys, reference, createHmac('sha256', key).update(reference).digest('hex'))
      );
    },
    recordShown(cards, serviceId, hookInstance, patientKey, caller, at) {
      for (const card of cards) {
        pending.push({
          cardUuid: card.uuid,
          serviceId,
          ruleId: card.source.topic.code,
          patientKey,
          hookInstance,
          issuer: caller.issuer,
          tenant: caller.tenant,
          shownAt: at,
        });
      }
      if (pending.length >= SHOWN_BATCH_SIZE) {
        void flush();
      } else if (!timer && pending.length > 0) {
        timer = setTimeout(() => void flush(), SHOWN_BATCH_MS);
      }
    },
    snoozedRules(patientKey, at) {
      const cacheKey = `${patientKey} ${Math.floor(at.getTime() / SNOOZE_CACHE_MS)}`;
      const cached = snoozeCache.get(cacheKey);
      const now = Date.now();
      if (cached && cached.expires > now) {
        return cached.rules;
      }
      if (!health.up && now - lastSnoozeProbe < SNOOZE_PROBE_MS) {
        // The store is down: advise at once rather than wait on it (the skip is counted in /metrics).
        return Promise.resolve(withoutSnoozes());
      }
      lastSnoozeProbe = now;
      const read = store.snoozedRules(patientKey, at);
      const rules = read.catch(() => {
        snoozeCache.delete(cacheKey);
        return withoutSnoozes();
      });
      boundedSet(snoozeCache, cacheKey, { expires: now + SNOOZE_CACHE_MS, rules });
      return rules;
    },
    async analytics(from, to) {
      await flush();
      return store.analytics(from, to);
    },
    async receive(target, items, caller, now) {
      // Feedback can follow its card within milliseconds: the card must be on record first.
      await flush();
      const shown = new Map(
        (await store.findShown(items.map((item) => item.card))).map((card) => [card.cardUuid, card]),
      );
      // Only a card shown to this caller through this service: a card uuid alone proves nothing.
      const ownCard = (uuid: string): ShownCard | undefined => {
        const card = shown.get(uuid);
        return card &&
          card.issuer === caller.issuer &&
          card.tenant === caller.tenant &&
          target.cardServiceIds.has(card.serviceId)
          ? card
          : undefined;
      };
      const snoozes: Snooze[] = [];
      let unknownCards = 0;
      const records = items.map((item): FeedbackItem & { itemKey: string } => {
        const card = ownCard(item.card);
        if (!card) {
          unknownCards += 1;
        }
        const outcomeTimestamp = new Date(item.outcomeTimestamp);
        const reason = item.overrideReason?.reason;
        if (card && item.outcome === 'overridden' && reason && snoozeReasons.has(reason.code)) {
          // From when the clinician said "not now", but never from the future.
          const from = Math.min(outcomeTimestamp.getTime(), now.getTime());
          snoozes.push({
            patientKey: card.patientKey,
            ruleId: card.ruleId,
            until: new Date(from + settings.snoozeDays * DAY_MS),
          });
        }
        // Named by the service the card came from (the feedback may arrive through its service's own id).
        const serviceId = card?.serviceId ?? target.id;
        return {
          itemKey: itemKey(serviceId, caller, item),
          cardUuid: item.card,
          serviceId,
          ruleId: card?.ruleId ?? UNKNOWN_CARD_RULE,
          hookInstance: card?.hookInstance ?? '',
          outcome: item.outcome,
          acceptedSuggestions: (item.acceptedSuggestions ?? []).map((suggestion) => suggestion.id),
          overrideReasonSystem: reason?.system,
          overrideReasonCode: reason?.code,
          overrideComment: item.overrideReason?.userComment,
          outcomeTimestamp,
          issuer: caller.issuer,
          tenant: caller.tenant,
        };
      });
      const stored = await store.saveFeedback(records, snoozes);
      if (snoozes.length > 0) {
        // This replica honours a new snooze at once.
        snoozeCache.clear();
      }
      return { stored, unknownCards };
    },
    prune,
    close() {
      clearInterval(pruneTimer);
      closing ??= flush().then(() => store.close());
      return closing;
    },
  };
}

/** The keyed-hash secret: configured, else kept in a file beside the SQLite database (made on first start). */
function resolveHashKey(config: Config): Buffer {
  const { feedback } = config;
  if (feedback.hashKey) {
    return Buffer.from(feedback.hashKey, 'utf8');
  }
  if (feedback.sqliteFile === ':memory:') {
    return randomBytes(32);
  }
  const file = `${dirname(feedback.sqliteFile)}/patient-hash.key`;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
}

/** The store the configuration names, migrated, behind the feedback service. */
export async function openFeedbackService(config: Config, log: FastifyBaseLogger): Promise<FeedbackService> {
  const { feedback } = config;
  const raw = feedback.databaseUrl
    ? createPostgresStore(feedback.databaseUrl)
    : createSqliteStore(feedback.sqliteFile);
  const health = createStoreHealthTracker(log);
  let migration: Awaited<ReturnType<typeof migrateWhenReachable>>;
  try {
    // An unreachable database does not stop the start: the store comes up when the database does.
    migration = await migrateWhenReachable(raw, health);
  } catch (error) {
    await raw.close();
    throw error;
  }
  const guarded = guardStore(raw, health, migration.ready);
  const store = {
    ...guarded,
    close: async () => {
      migration.stop();
      await guarded.close();
    },
  };
  return createFeedbackService(store, resolveHashKey(config), feedback, log, health);
}
