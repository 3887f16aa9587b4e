import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import type { JwtVerifier } from '../auth/jwt-verifier.js';
import { type CallServiceDeps, callService } from '../cds/call-service.js';
import { createAuthHook } from './auth-hook.js';
import { BadRequestError, PayloadTooLargeError, ServiceNotFoundError } from '../errors.js';
import { nullValueProblem } from './null-values.js';
import type { CdsEndpoint, CdsServiceDefinition } from '../catalog/load-catalog.js';
import type { HookName } from '../domain/hooks.js';
import {
  CdsRequestSchema,
  CdsResponseSchema,
  DiscoveryResponseSchema,
  ErrorResponseSchema,
  FeedbackRequestSchema,
  FeedbackResponseSchema,
  MAX_FEEDBACK_ITEMS,
  ServiceIdParamsSchema,
} from '../schemas/wire-schemas.js';

function isServiceHook(service: CdsServiceDefinition, hook: string): hook is HookName {
  return (service.hooks as readonly string[]).includes(hook);
}

/**
 * The CDS Hooks endpoints: discovery, service calls and feedback.
 * See {@link https://cds-hooks.hl7.org/2.0/#discovery | Discovery} and
 * {@link https://cds-hooks.hl7.org/2.0/#calling-a-cds-service | Calling a CDS Service}.
 */
export const cdsRoutes: FastifyPluginAsyncZod<CallServiceDeps & { verifier: JwtVerifier | null }> = async (
  app,
  deps,
) => {
  const { services, endpoints } = deps.catalog;
  // Every CDS endpoint (discovery configurable) needs the client's JWT; health routes live outside this scope.
  app.addHook(
    'onRequest',
    createAuthHook(deps.verifier, {
      publicBaseUrl: deps.config.server.publicBaseUrl,
      protectDiscovery: deps.config.auth?.protectDiscovery ?? true,
    }),
  );
  // One id per hook: clients key services by id or URL (spec-digest §2).
  const discovery = {
    services: [...services.values()].flatMap((service) =>
      service.hooks.map((hook) => ({
        hook,
        id: service.hookIds[hook] ?? service.id,
        title: service.title,
        description: service.description,
        prefetch: { ...service.prefetch },
        ...(service.usageRequirements ? { usageRequirements: service.usageRequirements } : {}),
      })),
    ),
  };

  /** The entries whose cards feedback through this URL may speak for: its own, or all its service's. */
  const feedbackScopes = new Map(
    [...endpoints.values()].map((endpoint) => [
      endpoint.id,
      new Set(endpoint.hooks.map((hook) => endpoint.service.hookIds[hook] ?? endpoint.service.id)),
    ]),
  );
  const feedbackScope = (endpoint: CdsEndpoint): ReadonlySet<string> =>
    feedbackScopes.get(endpoint.id) ?? new Set([endpoint.id]);

  function endpointOrThrow(id: string): CdsEndpoint {
    const endpoint = endpoints.get(id);
    if (!endpoint) {
      throw new ServiceNotFoundError(id);
    }
    return endpoint;
  }

  app.get(
    '/cds-services',
    {
      schema: {
        summary: 'CDS Hooks discovery',
        tags: ['cds-hooks'],
        response: { 200: DiscoveryResponseSchema },
      },
    },
    async () => discovery,
  );

  app.post(
    '/cds-services/:id',
    {
      schema: {
        summary: 'Call a CDS service',
        description:
          "Each id in discovery answers its own hook; a service's own id (`vitamin-d-back-pain`, `spine-preop-vitamin-d`, `b12-drug-risk`) also answers its order hooks, dispatching on the body's `hook`. Prefetch that is absent or unfulfilled is read from `fhirServer`.",
        tags: ['cds-hooks'],
        params: ServiceIdParamsSchema,
        body: CdsRequestSchema,
        response: {
          200: CdsResponseSchema,
          400: ErrorResponseSchema,
          404: ErrorResponseSchema,
          412: ErrorResponseSchema,
          413: ErrorResponseSchema,
        },
      },
      // Cards are built by our own code and checked against the spec in the tests; validating each response
      // again through zod costs throughput on the hot path. The schema above still documents it.
      serializerCompiler: () => (data) => JSON.stringify(data),
      // Look the service up before the body is validated, so an unknown id is a 404 whatever the body.
      preValidation: async (request) => {
        if (!endpoints.has(request.params.id)) {
          throw new ServiceNotFoundError(request.params.id);
        }
        const problem = nullValueProblem(request.body, true);
        if (problem) {
          throw new BadRequestError(problem);
        }
      },
    },
    async (request) => {
      const endpoint = endpointOrThrow(request.params.id);
      const { service } = endpoint;
      const { hook } = request.body;
      if (!(endpoint.hooks as readonly string[]).includes(hook) && isServiceHook(service, hook)) {
        throw new BadRequestError(
          `Service "${endpoint.id}" answers ${endpoint.hooks.join(', ')}; discovery lists ${hook} as "${service.hookIds[hook] ?? service.id}"`,
        );
      }
      // Bindings rather than a child logger: a pino child serialises its bindings up front, on every call,
      // even when nothing is logged at the configured level.
      return callService(service, request.body, deps, request.log, request.cdsClient, {
        serviceId: endpoint.id,
        hook,
        hookInstance: request.body.hookInstance,
      });
    },
  );

  app.post(
    '/cds-services/:id/feedback',
    {
      schema: {
        summary: 'Feedback on cards',
        tags: ['cds-hooks'],
        params: ServiceIdParamsSchema,
        body: FeedbackRequestSchema,
        response: {
          200: FeedbackResponseSchema,
          400: ErrorResponseSchema,
          404: ErrorResponseSchema,
          413: ErrorResponseSchema,
        },
      },
      preValidation: async (request) => {
        if (!endpoints.has(request.params.id)) {
          throw new ServiceNotFoundError(request.params.id);
        }
        // Counted before validation: a huge list is refused without validating each item.
        const items: unknown = (request.body as { feedback?: unknown } | null | undefined)?.feedback;
        if (Array.isArray(items) && items.length > MAX_FEEDBACK_ITEMS) {
          throw new PayloadTooLargeError(
            `feedback has ${items.length} items; at most ${MAX_FEEDBACK_ITEMS} are accepted per request (send the rest in further requests)`,
          );
        }
        const problem = nullValueProblem(request.body, false);
        if (problem) {
          throw new BadRequestError(problem);
        }
      },
    },
    async (request) => {
      const endpoint = endpointOrThrow(request.params.id);
      const caller = { issuer: request.cdsClient?.iss ?? '', tenant: request.cdsClient?.tenant ?? '' };
      // Acknowledged only once committed: a 2xx means the feedback is kept.
      const { stored, unknownCards } = await deps.feedback.receive(
        { id: endpoint.id, cardServiceIds: feedbackScope(endpoint) },
        request.body.feedback,
        caller,
        deps.now(),
      );
      const outcomes = { accepted: 0, overridden: 0 };
      for (const item of request.body.feedback) {
        outcomes[item.outcome] += 1;
      }
      request.log.info(
        { serviceId: endpoint.id, items: request.body.feedback.length, stored, unknownCards, outcomes },
        'feedback received',
      );
      return { received: request.body.feedback.length, stored, unknownCards };
    },
  );
};
