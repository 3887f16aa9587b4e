/**
 * What the service keeps about its cards and what clinicians did with them. Two implementations share this
 * interface and one test suite: SQLite (embedded default) and PostgreSQL (several replicas).
 */

/** A card the service returned, with a keyed hash of the patient: never the patient reference itself. */
export interface ShownCard {
  readonly cardUuid: string;
  readonly serviceId: string;
  readonly ruleId: string;
  readonly patientKey: string;
  readonly hookInstance: string;
  readonly issuer: string;
  readonly tenant: string;
  readonly shownAt: Date;
}

/** The rule feedback is counted under when its card is not one this service showed the caller. */
export const UNKNOWN_CARD_RULE = 'unknown';

/** One CDS Hooks feedback item, as received. */
export interface FeedbackItem {
  readonly cardUuid: string;
  readonly serviceId: string;
  /** From the shown card; "unknown" for a card this service did not show this caller through this service. */
  readonly ruleId: string;
  readonly hookInstance: string;
  readonly outcome: 'accepted' | 'overridden';
  readonly acceptedSuggestions: readonly string[];
  readonly overrideReasonSystem: string | undefined;
  readonly overrideReasonCode: string | undefined;
  readonly overrideComment: string | undefined;
  readonly outcomeTimestamp: Date;
  readonly issuer: string;
  readonly tenant: string;
}

export interface Snooze {
  readonly patientKey: string;
  readonly ruleId: string;
  readonly until: Date;
}

export interface AnalyticsRow {
  readonly serviceId: string;
  readonly ruleId: string;
  readonly shown: number;
  readonly accepted: number;
  readonly overridden: number;
  /** Overrides by reason code ("none" when no reason was given). */
  readonly overrideReasons: Readonly<Record<string, number>>;
}

export interface FeedbackStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; safe to run on every start and from several replicas. */
  migrate(): Promise<void>;
  recordShown(cards: readonly ShownCard[]): Promise<void>;
  /** The shown cards among these uuids (to tie feedback to a rule and a patient). */
  findShown(cardUuids: readonly string[]): Promise<ShownCard[]>;
  /**
   * Stores feedback items and snoozes, atomically; an item already stored is not stored again. Resolves once
   * committed. Returns how many items were new.
   */
  saveFeedback(
    items: readonly (FeedbackItem & { readonly itemKey: string })[],
    snoozes: readonly Snooze[],
  ): Promise<number>;
  /** The rules snoozed for this patient at this time. */
  snoozedRules(patientKey: string, at: Date): Promise<Set<string>>;
  analytics(from: Date, to: Date): Promise<AnalyticsRow[]>;
  /** Deletes feedback received and cards shown before `before`, and snoozes ended by `now`. */
  prune(before: Date, now: Date): Promise<PruneCounts>;
  close(): Promise<void>;
}

export interface PruneCounts {
  readonly feedback: number;
  readonly shownCards: number;
  readonly snoozes: number;
}

/**
 * Rows per statement: SQLite allows 32,766 bound variables and PostgreSQL 65,535, so a list of any length is
 * written and looked up in statements of this many rows (at most 13 variables each).
 */
export const SQL_BATCH_ROWS = 500;

/** Consecutive slices of at most `size` items. */
export function inBatches<T>(items: readonly T[], size = SQL_BATCH_ROWS): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    batches.push(items.slice(start, start + size));
  }
  return batches;
}

/** An empty object with no prototype, for counts keyed by strings from outside. */
export function nullPrototype<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** Analytics rows from per-(service, rule) counts, in a stable order. */
export function toAnalyticsRows(
  shown: readonly { serviceId: string; ruleId: string; count: number }[],
  feedback: readonly {
    serviceId: string;
    ruleId: string;
    outcome: string;
    reason: string | null;
    count: number;
  }[],
): AnalyticsRow[] {
  const rows = new Map<
    string,
    {
      serviceId: string;
      ruleId: string;
      shown: number;
      accepted: number;
      overridden: number;
      overrideReasons: Record<string, number>;
    }
  >();
  const row = (serviceId: string, ruleId: string) => {
    const key = `${serviceId}\n${ruleId}`;
    let entry = rows.get(key);
    if (!entry) {
      // Keyed by codes clients send: a null-prototype object, so "constructor" or "__proto__" is just a key.
      entry = { serviceId, ruleId, shown: 0, accepted: 0, overridden: 0, overrideReasons: nullPrototype() };
      rows.set(key, entry);
    }
    return entry;
  };
  for (const item of shown) {
    row(item.serviceId, item.ruleId).shown += item.count;
  }
  for (const item of feedback) {
    const entry = row(item.serviceId, item.ruleId);
    const { count } = item;
    if (item.outcome === 'accepted') {
      entry.accepted += count;
    } else {
      entry.overridden += count;
      const reason = item.reason ?? 'none';
      entry.overrideReasons[reason] = (entry.overrideReasons[reason] ?? 0) + count;
    }
  }
  return [...rows.values()].sort(
    (a, b) => a.serviceId.localeCompare(b.serviceId) || a.ruleId.localeCompare(b.ruleId),
  );
}

/** A shown_cards row as both databases return it (times as text in SQLite, Date in PostgreSQL). */
export interface ShownCardRow {
  card_uuid: string;
  service_id: string;
  rule_id: string;
  patient_key: string;
  hook_instance: string;
  issuer: string;
  tenant: string;
  shown_at: string | Date;
}

export function toShownCard(row: ShownCardRow): ShownCard {
  return {
    cardUuid: row.card_uuid,
    serviceId: row.service_id,
    ruleId: row.rule_id,
    patientKey: row.patient_key,
    hookInstance: row.hook_instance,
    issuer: row.issuer,
    tenant: row.tenant,
    shownAt: new Date(row.shown_at),
  };
}

/** The feedback columns both stores insert, in order (received_at is the database's own clock). */
export const FEEDBACK_COLUMNS =
  'item_key, card_uuid, service_id, rule_id, hook_instance, outcome, accepted_suggestions, override_reason_system, override_reason_code, override_comment, outcome_timestamp, issuer, tenant';

export function feedbackValues(
  item: FeedbackItem & { readonly itemKey: string },
  time: (date: Date) => string | Date,
): unknown[] {
  return [
    item.itemKey,
    item.cardUuid,
    item.serviceId,
    item.ruleId,
    item.hookInstance,
    item.outcome,
    JSON.stringify(item.acceptedSuggestions),
    item.overrideReasonSystem ?? null,
    item.overrideReasonCode ?? null,
    item.overrideComment ?? null,
    time(item.outcomeTimestamp),
    item.issuer,
    item.tenant,
  ];
}
