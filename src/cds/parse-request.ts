import type { Resource } from '@medplum/fhirtypes';
import type { CdsServiceDefinition } from '../catalog/load-catalog.js';
import type { HookName } from '../domain/hooks.js';
import { BadRequestError, PayloadTooLargeError, quoteName } from '../errors.js';
import { resourceProblem } from '../fhir/resource-shapes.js';
import { formatIssues } from '../schemas/format-issues.js';
import { type CdsRequestBody, type DraftOrders, HookContextSchemas } from '../schemas/wire-schemas.js';

/** Most draft orders and selections one call may carry: an order session holds dozens, not thousands. */
export const MAX_DRAFT_ORDERS = 1000;
export const MAX_SELECTIONS = 1000;

/** What a hook call asks, checked against the service that was called. */
export interface ParsedRequest {
  readonly hook: HookName;
  /** Cards are recorded under the discovery id of the hook that made them, whichever URL was called. */
  readonly serviceId: string;
  readonly patientId: string;
  /** Every unsigned order in the session (order hooks), else empty. */
  readonly draftOrders: Resource[];
  /** The selections in order-select, every draft in order-sign, else empty. */
  readonly focusOrders: Resource[];
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

/** Step 1 of a hook call: check the hook fits the service and its context is well formed (400/413 if not). */
export function parseRequest(service: CdsServiceDefinition, request: CdsRequestBody): ParsedRequest {
  const { hook } = request;
  if (!isServedHook(service, hook)) {
    throw new BadRequestError(
      `Service "${service.id}" does not serve hook ${quoteName(hook)}; it serves ${service.hooks.join(', ')}`,
    );
  }
  const context = parseContext(hook, request.context);
  // parseContext has checked both fields for the hooks that carry them.
  const draftOrders = draftOrderResources(context['draftOrders'] as DraftOrders | undefined);
  const selections = context['selections'] as string[] | undefined;
  const focusOrders = selections
    ? selectedOrders(selections, draftOrders)
    : hook === 'order-sign'
      ? draftOrders
      : [];
  return {
    hook,
    serviceId: service.hookIds[hook] ?? service.id,
    patientId: context.patientId,
    draftOrders,
    focusOrders,
  };
}
