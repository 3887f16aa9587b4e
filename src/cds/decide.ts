import type { FastifyBaseLogger } from 'fastify';
import type { VerifiedClient } from '../auth/jwt-verifier.js';
import type { CdsServiceDefinition } from '../catalog/load-catalog.js';
import type { Config } from '../config.js';
import type { RuleId } from '../domain/card-and-order-schemas.js';
import { evaluateRules, RULES } from '../domain/evaluate.js';
import type { Finding } from '../domain/findings.js';
import { countFutureDatedResults } from '../domain/lab-results.js';
import type { HookName } from '../domain/hooks.js';
import type { HookInput, PatientRecord } from '../domain/patient-record.js';
import { PrefetchUnavailableError } from '../errors.js';
import type { CallerIdentity, FeedbackService } from '../feedback/feedback-service.js';
import { type ResolvedPrefetch, toPatientRecord } from '../fhir/prefetch.js';
import type { CallMetrics } from './call-metrics.js';
import type { ParsedRequest } from './parse-request.js';

export interface DecideDeps {
  readonly config: Config;
  readonly now: () => Date;
  readonly feedback: FeedbackService;
  readonly metrics?: CallMetrics | undefined;
}

/** What the rules decided, with what the later steps need to render and record it. */
export interface Decision {
  readonly findings: Finding[];
  readonly record: PatientRecord;
  readonly now: Date;
  readonly caller: CallerIdentity;
  /** A keyed hash of the patient, never the reference itself. */
  readonly patientKey: string;
}

/**
 * The service's rules for this hook that can decide with the data at hand: each group of keys a rule needs
 * has one available.
 */
function decidableRules(
  service: CdsServiceDefinition,
  hook: HookName,
  unavailable: ReadonlySet<string>,
): { decidable: RuleId[]; skipped: RuleId[] } {
  const decidable: RuleId[] = [];
  const skipped: RuleId[] = [];
  for (const rule of service.rules.filter((id) => RULES[id].hooks.includes(hook))) {
    const needs = service.ruleNeeds.get(rule) ?? [];
    (needs.every((group) => group.some((key) => !unavailable.has(key))) ? decidable : skipped).push(rule);
  }
  return { decidable, skipped };
}

/**
 * Step 3 of a hook call: run the rules that can decide with the gathered data (503 when none can), then
 * leave out the rules a clinician snoozed for this patient.
 */
export async function decide(
  service: CdsServiceDefinition,
  parsed: ParsedRequest,
  gathered: ResolvedPrefetch,
  deps: DecideDeps,
  client: VerifiedClient | null,
  log: FastifyBaseLogger,
  bindings: Readonly<Record<string, string>>,
): Promise<Decision> {
  const { hook, serviceId, patientId, draftOrders, focusOrders } = parsed;
  const unavailableKeys = new Set(gathered.unavailable.keys());
  const { decidable: rules, skipped } = decidableRules(service, hook, unavailableKeys);
  if (unavailableKeys.size > 0) {
    for (const rule of skipped) {
      deps.metrics?.ruleSkipped(serviceId, rule);
    }
    // Keys and the server's status and issue code only: fixed reasons, never patient data.
    log.warn(
      { ...bindings, unavailable: Object.fromEntries(gathered.unavailable), skippedRules: skipped },
      'FHIR server does not offer some prefetch data; rules that need it give no card',
    );
    if (rules.length === 0) {
      throw new PrefetchUnavailableError(
        `The FHIR server does not offer the data this service's rules need: ${[...gathered.unavailable]
          .map(([key, reason]) => `"${key}" (${reason})`)
          .join(', ')}`,
      );
    }
  }
  if (gathered.truncated) {
    log.warn(
      { ...bindings, maxPages: deps.config.fhir.maxPages },
      'a FHIR search had more pages than FHIR_MAX_PAGES',
    );
  }

  const record = toPatientRecord(patientId, gathered.resources, {
    unavailableKeys,
    truncated: gathered.truncated,
  });
  const input: HookInput = { hook, now: deps.now(), draftOrders, focusOrders };
  const futureDated = countFutureDatedResults(record.observations, input.now);
  if (futureDated > 0) {
    log.warn({ ...bindings, futureDated }, 'ignored results dated more than a day in the future');
  }
  const caller = { issuer: client?.iss ?? '', tenant: client?.tenant ?? '' };
  let findings = evaluateRules(rules, record, input, deps.config.clinical);
  const patientKey = deps.feedback.patientKey(caller, patientId);
  if (findings.length > 0) {
    // A rule a clinician overrode with "not now" stays quiet for this patient for the snooze period.
    const snoozed = await deps.feedback.snoozedRules(patientKey, input.now);
    findings = findings.filter((finding) => !snoozed.has(finding.ruleId));
  }
  return { findings, record, now: input.now, caller, patientKey };
}
