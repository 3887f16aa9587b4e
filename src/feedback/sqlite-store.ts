import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  FEEDBACK_COLUMNS,
  type FeedbackStore,
  feedbackValues,
  inBatches,
  type ShownCardRow,
  toAnalyticsRows,
  toShownCard,
} from './feedback-store.js';
import { MIGRATIONS } from './migrations.js';

/**
 * The embedded store: one SQLite file (node:sqlite). WAL with synchronous=NORMAL: a commit survives the process
 * being killed (the acknowledged feedback is in the OS's hands), at the cost of the last commits on a power
 * loss. Several processes may share the file; snoozes across machines need PostgreSQL.
 */
export function createSqliteStore(file: string): FeedbackStore {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
  }
  const db = new DatabaseSync(file);
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;',
  );

  const transaction = <T>(work: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  };

  let statements: ReturnType<typeof prepare> | undefined;
  function prepare() {
    return {
      insertShown: db.prepare(
        `INSERT OR IGNORE INTO shown_cards (card_uuid, service_id, rule_id, patient_key, hook_instance, issuer, tenant, shown_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertFeedback: db.prepare(
        `INSERT OR IGNORE INTO feedback (${FEEDBACK_COLUMNS}, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      upsertSnooze: db.prepare(
        `INSERT INTO snoozes (patient_key, rule_id, until) VALUES (?, ?, ?)
         ON CONFLICT (patient_key, rule_id) DO UPDATE SET until = max(until, excluded.until)`,
      ),
      snoozed: db.prepare('SELECT rule_id FROM snoozes WHERE patient_key = ? AND until > ?'),
    };
  }
  const ready = () => (statements ??= prepare());

  return {
    kind: 'sqlite',
    async migrate() {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
      );
      transaction(() => {
        const applied = new Set(
          (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
            (row) => row.version,
          ),
        );
        MIGRATIONS.sqlite.forEach((step, index) => {
          if (!applied.has(index + 1)) {
            db.exec(step);
            db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
              index + 1,
              new Date().toISOString(),
            );
          }
        });
      });
    },
    async recordShown(cards) {
      const { insertShown } = ready();
      transaction(() => {
        for (const card of cards) {
          insertShown.run(
            card.cardUuid,
            card.serviceId,
            card.ruleId,
            card.patientKey,
            card.hookInstance,
            card.issuer,
            card.tenant,
            card.shownAt.toISOString(),
          );
        }
      });
    },
    async findShown(cardUuids) {
      if (cardUuids.length === 0) {
        return [];
      }
      return inBatches([...new Set(cardUuids)]).flatMap((batch) =>
        (
          db
            .prepare(`SELECT * FROM shown_cards WHERE card_uuid IN (${batch.map(() => '?').join(', ')})`)
            .all(...batch) as unknown as ShownCardRow[]
        ).map(toShownCard),
      );
    },
    async saveFeedback(items, snoozes) {
      const { insertFeedback, upsertSnooze } = ready();
      const receivedAt = new Date().toISOString();
      return transaction(() => {
        let added = 0;
        for (const item of items) {
          const result = insertFeedback.run(
            ...(feedbackValues(item, (date) => date.toISOString()) as (string | null)[]),
            receivedAt,
          );
          added += Number(result.changes);
        }
        for (const snooze of snoozes) {
          upsertSnooze.run(snooze.patientKey, snooze.ruleId, snooze.until.toISOString());
        }
        return added;
      });
    },
    async snoozedRules(patientKey, at) {
      const rows = ready().snoozed.all(patientKey, at.toISOString()) as { rule_id: string }[];
      return new Set(rows.map((row) => row.rule_id));
    },
    async analytics(from, to) {
      const range = [from.toISOString(), to.toISOString()];
      const shown = db
        .prepare(
          `SELECT service_id AS serviceId, rule_id AS ruleId, COUNT(*) AS count FROM shown_cards
           WHERE shown_at >= ? AND shown_at < ? GROUP BY service_id, rule_id`,
        )
        .all(...range) as { serviceId: string; ruleId: string; count: number }[];
      const feedback = db
        .prepare(
          `SELECT service_id AS serviceId, rule_id AS ruleId, outcome, override_reason_code AS reason, COUNT(*) AS count FROM feedback
           WHERE outcome_timestamp >= ? AND outcome_timestamp < ? GROUP BY service_id, rule_id, outcome, override_reason_code`,
        )
        .all(...range) as {
        serviceId: string;
        ruleId: string;
        outcome: string;
        reason: string | null;
        count: number;
      }[];
      return toAnalyticsRows(shown, feedback);
    },
    async prune(before, now) {
      return transaction(() => ({
        feedback: Number(
          db.prepare('DELETE FROM feedback WHERE received_at < ?').run(before.toISOString()).changes,
        ),
        shownCards: Number(
          db.prepare('DELETE FROM shown_cards WHERE shown_at < ?').run(before.toISOString()).changes,
        ),
        snoozes: Number(db.prepare('DELETE FROM snoozes WHERE until < ?').run(now.toISOString()).changes),
      }));
    },
    async close() {
      db.close();
    },
  };
}
