/**
 * The schema, one list of steps per database. A step is never edited once released: a change is a new step.
 * Times are ISO 8601 text in SQLite (they sort as text) and timestamptz in PostgreSQL.
 */
export const MIGRATIONS: Readonly<Record<'sqlite' | 'postgres', readonly string[]>> = {
  sqlite: [
    `CREATE TABLE shown_cards (
       card_uuid TEXT PRIMARY KEY, service_id TEXT NOT NULL, rule_id TEXT NOT NULL, patient_key TEXT NOT NULL,
       hook_instance TEXT NOT NULL, issuer TEXT NOT NULL, tenant TEXT NOT NULL, shown_at TEXT NOT NULL);
     CREATE INDEX shown_cards_shown_at ON shown_cards (shown_at);
     CREATE TABLE feedback (
       item_key TEXT PRIMARY KEY, card_uuid TEXT NOT NULL, service_id TEXT NOT NULL, rule_id TEXT NOT NULL,
       hook_instance TEXT NOT NULL, outcome TEXT NOT NULL, accepted_suggestions TEXT NOT NULL,
       override_reason_system TEXT, override_reason_code TEXT, override_comment TEXT,
       outcome_timestamp TEXT NOT NULL, issuer TEXT NOT NULL, tenant TEXT NOT NULL, received_at TEXT NOT NULL);
     CREATE INDEX feedback_outcome_timestamp ON feedback (outcome_timestamp);
     CREATE TABLE snoozes (
       patient_key TEXT NOT NULL, rule_id TEXT NOT NULL, until TEXT NOT NULL, PRIMARY KEY (patient_key, rule_id));`,
    // Retention prunes by when feedback arrived (a client's outcomeTimestamp could be anything).
    `CREATE INDEX feedback_received_at ON feedback (received_at);
     CREATE INDEX snoozes_until ON snoozes (until);`,
  ],
  postgres: [
    `CREATE TABLE shown_cards (
       card_uuid TEXT PRIMARY KEY, service_id TEXT NOT NULL, rule_id TEXT NOT NULL, patient_key TEXT NOT NULL,
       hook_instance TEXT NOT NULL, issuer TEXT NOT NULL, tenant TEXT NOT NULL, shown_at TIMESTAMPTZ NOT NULL);
     CREATE INDEX shown_cards_shown_at ON shown_cards (shown_at);
     CREATE TABLE feedback (
       item_key TEXT PRIMARY KEY, card_uuid TEXT NOT NULL, service_id TEXT NOT NULL, rule_id TEXT NOT NULL,
       hook_instance TEXT NOT NULL, outcome TEXT NOT NULL, accepted_suggestions JSONB NOT NULL,
       override_reason_system TEXT, override_reason_code TEXT, override_comment TEXT,
       outcome_timestamp TIMESTAMPTZ NOT NULL, issuer TEXT NOT NULL, tenant TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL);
     CREATE INDEX feedback_outcome_timestamp ON feedback (outcome_timestamp);
     CREATE TABLE snoozes (
       patient_key TEXT NOT NULL, rule_id TEXT NOT NULL, until TIMESTAMPTZ NOT NULL, PRIMARY KEY (patient_key, rule_id));`,
    `CREATE INDEX feedback_received_at ON feedback (received_at);
     CREATE INDEX snoozes_until ON snoozes (until);`,
  ],
};
