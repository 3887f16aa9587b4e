import { Counter, Registry } from 'prom-client';

/** Counts kept by the call path itself, served with the others on `/metrics`. */
export interface CallMetrics {
  readonly registry: Registry;
  /** A rule gave no card because prefetch data it needs was unavailable from the FHIR server. */
  ruleSkipped(serviceId: string, ruleId: string): void;
}

export function createCallMetrics(): CallMetrics {
  const registry = new Registry();
  // Labels are our own service and rule ids (from the catalogue), never outside strings: bounded.
  const skipped = new Counter({
    name: 'cds_rules_skipped_total',
    help: 'Rules that gave no card because FHIR data they need was unavailable, by service and rule',
    labelNames: ['service', 'rule'],
    registers: [registry],
  });
  return {
    registry,
    ruleSkipped: (serviceId, ruleId) => {
      skipped.inc({ service: serviceId, rule: ruleId });
    },
  };
}
