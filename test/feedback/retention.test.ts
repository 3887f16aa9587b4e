import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createFeedbackService } from '../../src/feedback/feedback-service.js';
import type { FeedbackStore } from '../../src/feedback/feedback-store.js';
import { createSqliteStore } from '../../src/feedback/sqlite-store.js';
import { testConfig } from '../helpers/build-app.js';

const DAY = 86_400_000;

describe('feedback retention (issue 15, item 12)', () => {
  it('is a setting, two years by default', () => {
    expect(testConfig().feedback.retentionDays).toBe(730);
    expect(testConfig({ FEEDBACK_RETENTION_DAYS: '90' }).feedback.retentionDays).toBe(90);
    expect(() => testConfig({ FEEDBACK_RETENTION_DAYS: '0' })).toThrow(/FEEDBACK_RETENTION_DAYS/);
  });

  it('prunes in the background, up to the retention period', async () => {
    const store = createSqliteStore(':memory:');
    await store.migrate();
    const prune = vi.fn<FeedbackStore['prune']>(async () => ({ feedback: 0, shownCards: 0, snoozes: 0 }));
    const spied: FeedbackStore = { ...store, prune };
    const service = createFeedbackService(
      spied,
      Buffer.alloc(32, 1),
      { snoozeDays: 30, snoozeReasonCodes: [], retentionDays: 730, pruneIntervalMs: 20 },
      pino({ level: 'silent' }),
    );
    try {
      await vi.waitFor(
        () => {
          expect(prune).toHaveBeenCalled();
        },
        { timeout: 2000, interval: 10 },
      );
      const [before, now] = prune.mock.calls[0]!;
      expect(now.getTime() - before.getTime()).toBe(730 * DAY);
      expect(Math.abs(now.getTime() - Date.now())).toBeLessThan(5000);
    } finally {
      await service.close();
    }
  });

  it('deletes only what is past the period', async () => {
    const store = createSqliteStore(':memory:');
    await store.migrate();
    const service = createFeedbackService(
      store,
      Buffer.alloc(32, 1),
      { snoozeDays: 30, snoozeReasonCodes: [], retentionDays: 730 },
      pino({ level: 'silent' }),
    );
    try {
      const caller = { issuer: '', tenant: '' };
      service.recordShown(
        [{ uuid: 'old-card', source: { topic: { code: 'VD' } } } as never],
        'vitamin-d-back-pain',
        'hook-1',
        'patient-key',
        caller,
        new Date(),
      );
      await service.receive(
        { id: 'vitamin-d-back-pain', cardServiceIds: new Set(['vitamin-d-back-pain']) },
        [{ card: 'old-card', outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }],
        caller,
        new Date(),
      );
      expect(await service.prune(new Date(Date.now() + 729 * DAY))).toEqual({
        feedback: 0,
        shownCards: 0,
        snoozes: 0,
      });
      expect(await service.prune(new Date(Date.now() + 731 * DAY))).toEqual({
        feedback: 1,
        shownCards: 1,
        snoozes: 0,
      });
    } finally {
      await service.close();
    }
  });
});
