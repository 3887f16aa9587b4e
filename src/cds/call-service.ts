import type { Resource } from '@medplum/fhirtypes';
import type { FastifyBaseLogger } from 'fastify';
import type { Catalog, CdsServiceDefinition } from '../catalog/load-catalog.js';
import type { Config } from '../config.js';
import { evaluateRules, RULES } from '../domain/evaluate.js';
import { createOrderLookup } from '../domain/existing-orders.js';
import { countFutureDatedResults } from '../domain/lab-results.js';
import type { CdsCardOut } from '../domain/findings.js';
import type { HookInput, HookName } from '../domain/patient-record.js';
import { renderCard } from '../domain/render-card.js';
import { BadRequestError, PayloadTooLargeError, PrefetchUnavailableError, quoteName } from '../errors.js';
import type { VerifiedClient } from '../auth/jwt-verifier.js';
import type { FeedbackService } from '../feedback/feedback-service.js';
import type { RuleId } from '../domain/catalog.js';
import type { FhirReadCache } from '../fhir/fhir-cache.js';
import type { CallMetrics } from './call-metrics.js';
import { createFhirReader } from '../fhir/fhir-reader.js';
import { fhirServerRefusal } from '../fhir/fhir-server-policy.js';
import { resolvePrefetch, toPatientRecord } from '../fhir/prefetch.js';
import { resourceProblem } from '../fhir/resource-shapes.js';
import { formatIssues } from '../http/format-issues.js';
import { type CdsRequestBody, type DraftOrders, HookContextSchemas } from '../http/schemas.js';

export interface CallServiceDeps {
  readonly catalog: Catalog;
  readonly config: Config;
  readonly now: () => Date;
  /** Injected in tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch | undefined;
  readonly fhirCache?: FhirReadCache | undefined;
  readonly feedback: FeedbackService;
  readonly metrics?: CallMetrics | undefined;
}

function isServedHook(service: CdsServiceDefinition, hook: string): hook is HookName {
  return (service.hooks as readonly string[]).includes(hook);
}

function draftOrderResources(draftOrders: DraftOrders | undefined): Resource[] {
  const resources = (draftOrders?.entry ?? []).flatMap((entry) =>
    entry.resource ? [entry.resource as unknown as Resource] : [],
  );
  resources.forEach((resource, index) => {
    const problem = resourceProblem(resource, { draftOrder: true });
    if (problem) {
      throw new BadRequestError(
        `context.draftOrders.entry[${index}].resource (${quoteName(resource.resourceType)}) is not valid: ${problem}`,
      );
    }
  });
  return resources;
}

function selectedOrders(selections: readonly string[], drafts: readonly Resource[]): Resource[] {
  // A Map, not a scan per selection: 10,000 selections of 10,000 drafts held the event loop for 9 s.
  const byReference = new Map<string, Resource>();
  for (const draft of drafts) {
    const reference = `${draft.resourceType}/${draft.id ?? ''}`;
    if (!byReference.has(reference)) {
      byReference.set(reference, draft);
    }
  }
  return selections.map((selection, index) => {
    const order = byReference.get(selection);
    if (!order) {
      throw new BadRequestError(
        `context.selections[${index}] ("${selection}") is not among context.draftOrders`,
      );
    }
    return order;
  });
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

/** Most draft orders and selections one call may carry: an order session holds dozens, not thousands. */
export const MAX_DRAFT_ORDERS = 1000;
export const MAX_SELECTIONS = 1000;

function checkSizeLimits(context: Record<string, unknown>): void {
  const drafts: unknown = (context['draftOrders'] as { entry?: unknown } | null | undefined)?.entry;
  if (Array.isArray(drafts) && drafts.length > MAX_DRAFT_ORDERS) {
    throw new PayloadTooLargeError(
      `context.draftOrders has ${drafts.length} entries; at most ${MAX_DRAFT_ORDERS} are accepted`,
    );
  }
  const selections: unknown = context['selections'];
  if (Array.isArray(selections) && selections.length > MAX_SELECTIONS) {
    throw new PayloadTooLargeError(
      `context.selections has ${selections.length} items; at most ${MAX_SELECTIONS} are accepted`,
    );
  }
}

function parseContext(hook: HookName, context: Record<string, unknown>) {
  checkSizeLimits(context);
  if (hook === 'order-select' && context['draftOrders'] === undefined) {
    throw new BadRequestError(
      'context.draftOrders is required for order-select (the client fired order-select without its draft orders)',
    );
  }
  const parsed = HookContextSchemas[hook].safeParse(context);
  if (!parsed.success) {
    throw new BadRequestError(`Invalid context for ${hook}: ${formatIssues('context', parsed.error.issues)}`);
  }
  return parsed.data;
}

/**
 * One hook call, end to end: check it fits the service, gather the FHIR data, run the service's rules and
 * render their cards. Pure apart from the FHIR reads.
 */
export async function callService(
  service: CdsServiceDefinition,
  request: CdsRequestBody,
  deps: CallServiceDeps,
  log: FastifyBaseLogger,
  client: VerifiedClient | null = null,
  /** Identify the call in log lines (service, hook, hookInstance): never patient data. */
  bindings: Readonly<Record<string, string>> = {},
): Promise<{ cards: CdsCardOut[] }> {
  const { hook } = request;
  if (!isServedHook(service, hook)) {
    throw new BadRequestError(
      `Service "${service.id}" does not serve hook ${quoteName(hook)}; it serves ${service.hooks.join(', ')}`,
    );
  }
  // Cards are recorded under the discovery id of the hook that made them, whichever URL was called.
  const serviceId = service.hookIds[hook] ?? service.id;
  const context = parseContext(hook, request.context);
  // parseContext has checked both fields for the hooks that carry them.
  const draftOrders = draftOrderResources(context['draftOrders'] as DraftOrders | undefined);
  const selections = context['selections'] as string[] | undefined;
  const focusOrders = selections
    ? selectedOrders(selections, draftOrders)
    : hook === 'order-sign'
      ? draftOrders
      : [];

  const { fhir } = deps.config;
  const accessToken = request.fhirAuthorization?.access_token;
  // The token may only go to a fhirServer on this client's allowlist (SSRF and token leaks).
  const refusal = request.fhirServer
    ? fhirServerRefusal(request.fhirServer, client?.fhirServers ?? fhir.serverAllowlist, {
        allowInsecureHttp: fhir.allowInsecureHttp,
      })
    : 'the request gives no fhirServer';
  if (request.fhirServer && refusal) {
    log.warn({ ...bindings, reason: refusal }, 'fhirServer not called');
  }
  const reader =
    request.fhirServer && !refusal && (accessToken || fhir.fetchWithoutToken)
      ? createFhirReader({
          fhirServer: request.fhirServer,
          accessToken,
          deadlineMs: fhir.deadlineMs,
          maxResponseBytes: fhir.maxResponseBytes,
          fetch: deps.fetch,
          cache: deps.fhirCache,
        })
      : undefined;
  const resolved = await resolvePrefetch({
    templates: service.prefetch,
    prefetch: request.prefetch,
    context: request.context,
    reader,
    noReaderReason: refusal ?? 'the request gives no fhirAuthorization token',
    deadlineMs: fhir.deadlineMs,
    maxPages: fhir.maxPages,
  });
  if (resolved.droppedFromServer > 0) {
    log.warn(
      { ...bindings, dropped: resolved.droppedFromServer },
      'left out unusable resources returned by the FHIR server',
    );
  }

  const unavailableKeys = new Set(resolved.unavailable.keys());
  const { decidable: rules, skipped } = decidableRules(service, hook, unavailableKeys);
  if (unavailableKeys.size > 0) {
    for (const rule of skipped) {
      deps.metrics?.ruleSkipped(serviceId, rule);
    }
    // Keys and the server's status and issue code only: fixed reasons, never patient data.
    log.warn(
      { ...bindings, unavailable: Object.fromEntries(resolved.unavailable), skippedRules: skipped },
      'FHIR server does not offer some prefetch data; rules that need it give no card',
    );
    if (rules.length === 0) {
      throw new PrefetchUnavailableError(
        `The FHIR server does not offer the data this service's rules need: ${[...resolved.unavailable]
          .map(([key, reason]) => `"${key}" (${reason})`)
          .join(', ')}`,
      );
    }
  }
  if (resolved.truncated) {
    log.warn({ ...bindings, maxPages: fhir.maxPages }, 'a FHIR search had more pages than FHIR_MAX_PAGES');
  }

  const record = toPatientRecord(context.patientId, resolved.resources, {
    unavailableKeys,
    truncated: resolved.truncated,
  });
  const input: HookInput = { hook, now: deps.now(), draftOrders, focusOrders };
  const futureDated = countFutureDatedResults(record.observations, input.now);
  if (futureDated > 0) {
    log.warn({ ...bindings, futureDated }, 'ignored results dated more than a day in the future');
  }
  const caller = { issuer: client?.iss ?? '', tenant: client?.tenant ?? '' };
  let findings = evaluateRules(rules, record, input, deps.config.clinical);
  const patientKey = deps.feedback.patientKey(caller, context.patientId);
  if (findings.length > 0) {
    // A rule a clinician overrode with "not now" stays quiet for this patient for the snooze period.
    const snoozed = await deps.feedback.snoozedRules(patientKey, input.now);
    findings = findings.filter((finding) => !snoozed.has(finding.ruleId));
  }
  const lookup = createOrderLookup(deps.catalog.orders, record, draftOrders);
  const cards = findings
    .map((finding) =>
      renderCard(finding, {
        cards: deps.catalog.cards,
        orders: deps.catalog.orders,
        lookup,
        serviceId,
        serviceTitle: service.title,
        hookInstance: request.hookInstance,
        patientId: context.patientId,
        patientKey,
        now: input.now,
      }),
    )
    .filter((card): card is CdsCardOut => card !== undefined);
  deps.feedback.recordShown(cards, serviceId, request.hookInstance, patientKey, caller, input.now);
  log.info(
    {
      ...bindings,
      fetchedKeys: resolved.fetchedKeys,
      findings: findings.map((finding) => finding.situation),
      cards: cards.length,
    },
    'hook answered',
  );
  return { cards };
}
