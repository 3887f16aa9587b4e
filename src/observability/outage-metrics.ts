import { Counter, Gauge, type Registry } from 'prom-client';
import type { FeedbackStoreHealth } from '../feedback/store-outage.js';

/**
 * How the service copes without its shared stores, read at scrape time: whether the feedback store is up,
 * what its outages cost, and how many calls were checked for replay by one replica only.
 */
export function registerOutageMetrics(
  registry: Registry,
  sources: { feedback: FeedbackStoreHealth | undefined; replayFallbacks: () => number },
): void {
  const { feedback } = sources;
  const counterOf = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  new Gauge({
    name: 'cds_feedback_store_up',
    help: 'Whether the feedback store (snoozes, feedback, analytics) is reachable: 1 up, 0 down',
    registers: [registry],
    collect() {
      this.set(feedback?.up === false ? 0 : 1);
    },
  });
  counterOf(
    'cds_snooze_reads_skipped_total',
    'Calls whose snoozes could not be read (store down), so their cards were shown unsnoozed',
    () => feedback?.snoozeReadsSkipped ?? 0,
  );
  counterOf(
    'cds_shown_cards_dropped_total',
    'Shown cards not recorded because the store stayed down past the retry buffer',
    () => feedback?.shownCardsDropped ?? 0,
  );
  counterOf(
    'cds_replay_memory_fallbacks_total',
    'Calls whose jti was checked by this replica only, the shared replay memory being unreachable',
    sources.replayFallbacks,
  );
}
