import pg from 'pg';
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

/** Any fixed number: replicas starting together take turns to migrate. */
const MIGRATION_LOCK = 712_309_114;

const FEEDBACK_COLUMN_COUNT = FEEDBACK_COLUMNS.split(',').length;

/** `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters, each row ending with `extra` if given. */
function placeholders(rows: number, columns: number, extra?: string): string {
  return Array.from({ length: rows }, (_, row) => {
    const parameters = Array.from({ length: columns }, (_, column) => `$${row * columns + column + 1}`);
    return `(${[...parameters, ...(extra ? [extra] : [])].join(', ')})`;
  }).join(', ');
}

/**
 * The store for deployments with several replicas: PostgreSQL at DATABASE_URL. Nothing waits long on a
 * database that is gone (short connect and query timeouts); the pool reconnects by itself when it returns.
 */
export function createPostgresStore(connectionString: string): FeedbackStore {
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    connectionTimeoutMillis: 1000,
    query_timeout: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client whose server went away (a restart, a failover) is reported here; without a listener the
  // process would crash. The pool drops it and the next query reconnects; the failure that matters is
  // reported by the query that meets it, so nothing is logged here (the error carries the client).
  pool.on('error', () => undefined);

  async function inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      // On a lost connection ROLLBACK fails too: the first error is the one to report.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // A client that failed is destroyed rather than reused: its connection may be dead.
      client.release(failure);
    }
  }

  return {
    kind: 'postgres',
    async migrate() {
      await inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
        );
        const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
        const applied = new Set(rows.map((row) => row.version));
        for (const [index, step] of MIGRATIONS.postgres.entries()) {
          if (!applied.has(index + 1)) {
            await client.query(step);
            await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
              index + 1,
            ]);
          }
        }
      });
    },
    async recordShown(cards) {
      for (const batch of inBatches(cards)) {
        const values: unknown[] = [];
        for (const card of batch) {
          values.push(
            card.cardUuid,
            card.serviceId,
            card.ruleId,
            card.patientKey,
            card.hookInstance,
            card.issuer,
            card.tenant,
            card.shownAt,
          );
        }
        await pool.query(
          `INSERT INTO shown_cards (card_uuid, service_id, rule_id, patient_key, hook_instance, issuer, tenant, shown_at)
           VALUES ${placeholders(batch.length, 8)} ON CONFLICT (card_uuid) DO NOTHING`,
          values,
        );
      }
    },
    async findShown(cardUuids) {
      if (cardUuids.length === 0) {
        return [];
      }
      const { rows } = await pool.query<ShownCardRow>('SELECT * FROM shown_cards WHERE card_uuid = ANY($1)', [
        cardUuids,
      ]);
      return rows.map(toShownCard);
    },
    async saveFeedback(items, snoozes) {
      return inTransaction(async (client) => {
        let added = 0;
        for (const batch of inBatches(items)) {
          const result = await client.query(
            `INSERT INTO feedback (${FEEDBACK_COLUMNS}, received_at)
             VALUES ${placeholders(batch.length, FEEDBACK_COLUMN_COUNT, 'now()')} ON CONFLICT (item_key) DO NOTHING`,
            batch.flatMap((item) => feedbackValues(item, (date) => date)),
          );
          added += result.rowCount ?? 0;
        }
        for (const snooze of snoozes) {
          await client.query(
            `INSERT INTO snoozes (patient_key, rule_id, until) VALUES ($1, $2, $3)
             ON CONFLICT (patient_key, rule_id) DO UPDATE SET until = GREATEST(snoozes.until, excluded.until)`,
            [snooze.patientKey, snooze.ruleId, snooze.until],
          );
        }
        return added;
      });
    },
    async snoozedRules(patientKey, at) {
      const { rows } = await pool.query<{ rule_id: string }>(
        'SELECT rule_id FROM snoozes WHERE patient_key = $1 AND until > $2',
        [patientKey, at],
      );
      return new Set(rows.map((row) => row.rule_id));
    },
    async analytics(from, to) {
      const shown = await pool.query<{ serviceId: string; ruleId: string; count: number }>(
        `SELECT service_id AS "serviceId", rule_id AS "ruleId", COUNT(*)::int AS count FROM shown_cards
         WHERE shown_at >= $1 AND shown_at < $2 GROUP BY service_id, rule_id`,
        [from, to],
      );
      const feedback = await pool.query<{
        serviceId: string;
        ruleId: string;
        outcome: string;
        reason: string | null;
        count: number;
      }>(
        `SELECT service_id AS "serviceId", rule_id AS "ruleId", outcome, override_reason_code AS reason, COUNT(*)::int AS count FROM feedback
         WHERE outcome_timestamp >= $1 AND outcome_timestamp < $2 GROUP BY service_id, rule_id, outcome, override_reason_code`,
        [from, to],
      );
      return toAnalyticsRows(shown.rows, feedback.rows);
    },
    async prune(before, now) {
      return inTransaction(async (client) => ({
        feedback: (await client.query('DELETE FROM feedback WHERE received_at < $1', [before])).rowCount ?? 0,
        shownCards:
          (await client.query('DELETE FROM shown_cards WHERE shown_at < $1', [before])).rowCount ?? 0,
        snoozes: (await client.query('DELETE FROM snoozes WHERE until < $1', [now])).rowCount ?? 0,
      }));
    },
    async close() {
      await pool.end();
    },
  };
}
