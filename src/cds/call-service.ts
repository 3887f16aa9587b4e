import type { FastifyBaseLogger } from 'fastify';
import type { VerifiedClient } from '../auth/jwt-verifier.js';
import type { Catalog, CdsServiceDefinition } from '../catalog/load-catalog.js';
import type { CdsCardOut } from '../domain/findings.js';
import type { CdsRequestBody } from '../schemas/wire-schemas.js';
import { decide, type DecideDeps } from './decide.js';
import { gatherData, type GatherDeps } from './gather-data.js';
import { parseRequest } from './parse-request.js';
import { recordCall } from './record-call.js';
import { renderCards } from './render-cards.js';

export interface CallServiceDeps extends GatherDeps, DecideDeps {
  readonly catalog: Catalog;
}

/**
 * One hook call, end to end, in the order the data flows: parse the request, gather the FHIR data, decide
 * (rules), render cards, record. The steps throw the errors of src/errors.ts; the route maps them to HTTP.
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
  const parsed = parseRequest(service, request);
  const gathered = await gatherData(service, request, deps, client, log, bindings);
  const decision = await decide(service, parsed, gathered, deps, client, log, bindings);
  const cards = renderCards(deps.catalog, service, request.hookInstance, parsed, decision);
  recordCall(deps.feedback, request.hookInstance, parsed, gathered, decision, cards, log, bindings);
  return { cards };
}
