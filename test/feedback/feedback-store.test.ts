import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackItem, FeedbackStore, ShownCard } from '../../src/feedback/feedback-store.js';
import { createPostgresStore } from '../../src/feedback/postgres-store.js';
import { createSqliteStore } from '../../src/feedback/sqlite-store.js';
import { createTemporaryDatabase, postgresUnavailable } from '../helpers/postgres.js';

const T0 = new Date('2026-11-22T12:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

function shown(
  cardUuid: string,
  patientKey: string,
  ruleId = 'VD',
  serviceId = 'vitamin-d-back-pain',
  at = T0,
): ShownCard {
  return {
    cardUuid,
    serviceId,
    ruleId,
    patientKey,
    hookInstance: `hook-${cardUuid}`,
    issuer: 'iss',
    tenant: '',
    shownAt: at,
  };
}

function item(
  cardUuid: string,
  outcome: 'accepted' | 'overridden',
  reason?: string,
  at = minutes(1),
): FeedbackItem & { itemKey: string } {
  return {
    itemKey: `${cardUuid}-${outcome}-${reason ?? ''}-${at.toISOString()}`,
    cardUuid,
    serviceId: 'vitamin-d-back-pain',
    ruleId: 'VD',
    hookInstance: `hook-${cardUuid}`,
    outcome,
    acceptedSuggestions: outcome === 'accepted' ? ['s-1'] : [],
    overrideReasonSystem: reason
      ? 'https://vitamin-cds.example.org/fhir/CodeSystem/override-reason'
      : undefined,
    overrideReasonCode: reason,
    overrideComment: undefined,
    outcomeTimestamp: at,
    issuer: 'iss',
    tenant: '',
  };
}

/** One suite, both stores: what is kept must not depend on where it is kept. */
function defineStoreSuite(
  name: string,
  setup: () => Promise<{ open: () => FeedbackStore; cleanup: () => Promise<void> }>,
  skipReason?: () => string | undefined,
) {
  describe(name, () => {
    let open: () => FeedbackStore;
    let cleanup: () => Promise<void>;
    let store: FeedbackStore;

    beforeAll(async () => {
      if (skipReason?.()) {
        return;
      }
      ({ open, cleanup } = await setup());
      store = open();
      await store.migrate();
      await store.migrate();
    });
    afterAll(async () => {
      if (skipReason?.()) {
        return;
      }
      await store.close();
      await cleanup();
    });

    it('finds the cards it was shown', async (context) => {
      if (skipReason?.()) {
        return context.skip(skipReason());
      }
      await store.recordShown([shown('c-1', 'patient-a'), shown('c-2', 'patient-b', 'B12', 'b12-drug-risk')]);
      await store.recordShown([shown('c-1', 'patient-a')]);
      const found = await store.findShown(['c-1', 'c-2', 'c-unknown']);
      expect(found.map((card) => [card.cardUuid, card.ruleId, card.patientKey]).sort()).toEqual([
        ['c-1', 'VD', 'patient-a'],
        ['c-2', 'B12', 'patient-b'],
      ]);
      expect(found.find((card) => card.cardUuid === 'c-1')?.shownAt.toISOString()).toBe(T0.toISOString());
    });

    it('stores the same feedback item once', async (context) => {
      if (skipReason?.()) {
        return context.skip(skipReason());
      }
      expect(await store.saveFeedback([item('c-1', 'accepted')], [])).toBe(1);
      expect(await store.saveFeedback([item('c-1', 'accepted')], [])).toBe(0);
      expect(
        await store.saveFeedback(
          [item('c-1', 'accepted'), item('c-2', 'overridden', 'patient-declined')],
          [],
        ),
      ).toBe(1);
    });

    it('snoozes a rule for one patient only, until the end of the period', async (context) => {
      if (skipReason?.()) {
        return context.skip(skipReason());
      }
      await store.saveFeedback(
        [item('c-3', 'overridden', 'tested-elsewhere')],
        [{ patientKey: 'patient-a', ruleId: 'VD', until: minutes(60) }],
      );
      expect(await store.snoozedRules('patient-a', minutes(30))).toEqual(new Set(['VD']));
      expect(await store.snoozedRules('patient-b', minutes(30))).toEqual(new Set());
      expect(await store.snoozedRules('patient-a', minutes(61))).toEqual(new Set());
      // A later, shorter snooze does not cut an earlier, longer one short.
      await store.saveFeedback([], [{ patientKey: 'patient-a', ruleId: 'VD', until: minutes(10) }]);
      expect(await store.snoozedRules('patient-a', minutes(30))).toEqual(new Set(['VD']));
    });

    it('counts cards and outcomes per service and rule over a range', async (context) => {
      if (skipReason?.()) {
        return context.skip(skipReason());
      }
      const rows = await store.analytics(minutes(-5), minutes(120));
      expect(rows).toEqual([
        {
          serviceId: 'b12-drug-risk',
          ruleId: 'B12',
          shown: 1,
          accepted: 0,
          overridden: 0,
          overrideReasons: {},
        },
        {
          serviceId: 'vitamin-d-back-pain',
          ruleId: 'VD',
          shown: 1,
          accepted: 1,
          overridden: 2,
          overrideReasons: { 'patient-declined': 1, 'tested-elsewhere': 1 },
        },
      ]);
      expect(await store.analytics(minutes(200), minutes(300))).toEqual([]);
    });

    it('writes and looks up more rows than one SQL statement may bind variables for', async (context) => {
      if (skipReason?.()) {
        return context.skip(skipReason());
      }
      const far = new Date('2030-01-01T00:00:00Z');
      // 9,000 cards are 72,000 variables, 40,000 uuids more than SQLite's 32,766; 6,000 items 78,000.
      const cards = Array.from({ length: 9000 }, (_, index) =>
        shown(`bulk-${index}`, 'patient-bulk', 'VD', 'vitamin-d-back-pain', far),
      );
      await store.recordShown(cards);
      const uuids = Array.from({ length: 40_000 }, (_, index) => `bulk-${index}`);
      expect(await store.findShown(uuids)).toHaveLength(9000);
      const items = Array.from({ length: 6000 }, (_, index) => ({
        ...item(`bulk-${index}`, 'accepted', undefined, far),
        itemKey: `bulk-item-${index}`,
      }));
      expect(await store.saveFeedback(items, [])).toBe(6000);
      expect(await store.saveFeedback(items, [])).toBe(0);
    });

    it('keeps everything across a restart', async (context) => {
      if (skipReason?.()) {
        return context.skip(skipReason());
      }
      const before = await store.analytics(minutes(-5), minutes(120));
      await store.close();
      store = open();
      await store.migrate();
      expect(await store.analytics(minutes(-5), minutes(120))).toEqual(before);
      expect(await store.snoozedRules('patient-a', minutes(30))).toEqual(new Set(['VD']));
    });

    it('prunes what is past the retention period, and nothing newer', async (context) => {
      if (skipReason?.()) {
        return context.skip(skipReason());
      }
      expect(await store.prune(new Date('2000-01-01T00:00:00Z'), T0)).toEqual({
        feedback: 0,
        shownCards: 0,
        snoozes: 0,
      });
      const later = new Date('2200-01-01T00:00:00Z');
      const counts = await store.prune(later, later);
      expect(counts.feedback).toBeGreaterThan(0);
      expect(counts.shownCards).toBeGreaterThan(0);
      expect(counts.snoozes).toBeGreaterThan(0);
      expect(await store.analytics(new Date(0), later)).toEqual([]);
    });
  });
}

defineStoreSuite('SQLite feedback store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'feedback-'));
  return {
    open: () => createSqliteStore(join(dir, 'feedback.sqlite')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

let pgSkip: string | undefined = 'not checked yet';
beforeAll(async () => {
  pgSkip = await postgresUnavailable();
});
defineStoreSuite(
  'PostgreSQL feedback store',
  async () => {
    const database = await createTemporaryDatabase();
    return { open: () => createPostgresStore(database.url), cleanup: database.drop };
  },
  () => pgSkip,
);
