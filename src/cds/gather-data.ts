import type { FastifyBaseLogger } from 'fastify';
import type { VerifiedClient } from '../auth/jwt-verifier.js';
import type { CdsServiceDefinition } from '../catalog/load-catalog.js';
import type { Config } from '../config.js';
import type { FhirReadCache } from '../fhir/fhir-cache.js';
import { createFhirReader } from '../fhir/fhir-reader.js';
import { fhirServerRefusal } from '../fhir/fhir-server-policy.js';
import { type ResolvedPrefetch, resolvePrefetch } from '../fhir/prefetch.js';
import type { CdsRequestBody } from '../schemas/wire-schemas.js';

export interface GatherDeps {
  readonly config: Config;
  /** Injected in tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch | undefined;
  readonly fhirCache?: FhirReadCache | undefined;
}

/**
 * Step 2 of a hook call: the service's prefetch data, from the request's prefetch or read from its fhirServer
 * (only one on the client's allowlist, and only with a token unless configured otherwise).
 */
export async function gatherData(
  service: CdsServiceDefinition,
  request: CdsRequestBody,
  deps: GatherDeps,
  client: VerifiedClient | null,
  log: FastifyBaseLogger,
  bindings: Readonly<Record<string, string>>,
): Promise<ResolvedPrefetch> {
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
  return resolved;
}
