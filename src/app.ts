import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from '@fastify/type-provider-zod';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { docsRoutes } from './api-docs/docs-routes.js';
import { installHookMetrics } from './observability/hook-metrics.js';
import { createJwtVerifier } from './auth/jwt-verifier.js';
import { openReplayMemory } from './auth/replay-memory.js';
import { createCallMetrics } from './cds/call-metrics.js';
import { createFhirReadCache } from './fhir/fhir-cache.js';
import type { Catalog } from './catalog/load-catalog.js';
import type { Config } from './config.js';
import { type FeedbackService, openFeedbackService } from './feedback/feedback-service.js';
import { analyticsRoutes, metricsRoutes } from './http/analytics-routes.js';
import { cdsRoutes } from './http/cds-routes.js';
import { requestIdOf, sendRequestId, slowClientTimeouts } from './http/connection-limits.js';
import { installErrorHandler, notFoundHandler } from './http/error-handler.js';
import { jsonBodyParser } from './http/json-body.js';
import { type HealthState, healthRoutes } from './http/health-routes.js';
import { registerRateLimits } from './http/rate-limits.js';
import { securityHeaders } from './http/security-headers.js';
import { registerOutageMetrics } from './observability/outage-metrics.js';
import { Registry } from 'prom-client';
import { closeRedis, openRedis } from './redis.js';
import { FeedbackStoreUnavailableError } from './errors.js';

export interface AppDeps {
  readonly config: Config;
  readonly catalog: Catalog;
  /** The time rules measure windows from; injected in tests. */
  readonly now?: () => Date;
  /** The fetch used for FHIR reads and JWKS downloads; injected in tests. */
  readonly fetch?: typeof fetch;
  readonly logger?: FastifyServerOptions['logger'];
  readonly loggerInstance?: FastifyServerOptions['loggerInstance'];
  readonly healthState?: HealthState;
  /** The feedback store behind snoozes and analytics; opened from the configuration when not given. */
  readonly feedback?: FeedbackService;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The admin app serving /metrics on METRICS_PORT; null when /metrics is served by the app itself. */
    adminApp: FastifyInstance | null;
  }
}

/** A number of hops as the function Fastify's types ask for (proxy-addr treats a number the same way). */
function fastifyTrustProxy(
  setting: Config['server']['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') {
    return (_address, hop) => hop < setting;
  }
  return typeof setting === 'boolean' ? setting : [...setting];
}

/** Builds the service; never listens (server.ts does). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    bodyLimit: config.server.bodyLimitBytes,
    // A client's X-Request-Id is kept only when it looks like an id; it goes into every log line.
    requestIdHeader: false,
    genReqId: requestIdOf,
    ...slowClientTimeouts(config.server),
    return503OnClosing: true,
    connectionTimeout: 30_000,
    // Behind a load balancer, the client's address (rate limits, logs) comes from X-Forwarded-For.
    trustProxy: fastifyTrustProxy(config.server.trustProxy),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The spec's examples send application/json; FHIR clients may send application/fhir+json. Both get
  // Fastify's JSON parser, with messages that name the content type and tell a forbidden key from broken
  // JSON. Any other body, text/plain included (Fastify reads it as a string by default), is a 415.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  for (const mediaType of ['application/json', 'application/fhir+json']) {
    app.addContentTypeParser(mediaType, { parseAs: 'string' }, jsonBodyParser(mediaType, parseJson));
  }
  installErrorHandler(app);
  app.decorateRequest('cdsClient', null);
  // First of the hooks: a refusal by any later one (CORS, rate limits, auth) still carries the id.
  sendRequestId(app);

  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
  // Browser clients (the CDS Hooks Sandbox) preflight every call with Authorization; a script may only read
  // the response headers listed in exposedHeaders (when to retry, why a 401, the id to quote in a report).
  await app.register(cors, {
    origin: config.server.corsOrigins.includes('*') ? '*' : [...config.server.corsOrigins],
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-Request-Id'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
    maxAge: 600,
  });
  const redis = config.redis ? await openRedis(config.redis.url, config.redis.keyPrefix, app.log) : null;
  if (redis) {
    app.addHook('onClose', async () => {
      await closeRedis(redis);
    });
  }
  await registerRateLimits(app, config, redis);
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, notFoundHandler);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vitamin D and B12 CDS Hooks service',
        version: '0.1.0',
        description:
          'CDS Hooks 2.0 services for missed vitamin D and vitamin B12 problems in spine and pain patients.',
      },
      servers: [{ url: config.server.publicBaseUrl }],
    },
    transform: jsonSchemaTransform,
  });

  await app.register(healthRoutes, { state: deps.healthState ?? { closing: false } });
  await app.register(docsRoutes, { publicBaseUrl: config.server.publicBaseUrl });
  let replayFallbacks = 0;
  const replayMemory = config.auth
    ? openReplayMemory({
        redis,
        databaseUrl: config.feedback.databaseUrl,
        now: deps.now ?? (() => new Date()),
        log: app.log,
        onFallback: () => {
          replayFallbacks++;
        },
      })
    : undefined;
  if (replayMemory) {
    app.addHook('onClose', async () => {
      await replayMemory.close();
    });
  }
  const verifier = config.auth
    ? createJwtVerifier({
        ...config.auth,
        fetch: deps.fetch,
        replayMemory,
        ...(deps.now ? { now: deps.now } : {}),
      })
    : null;
  const feedback = deps.feedback ?? (await openFeedbackService(config, app.log));
  app.addHook('onClose', async () => {
    await feedback.close();
  });
  const now = deps.now ?? (() => new Date());
  const reasonCodes = new Set([
    ...deps.catalog.cards.overrideReasons.map((reason) => reason.code),
    ...config.feedback.snoozeReasonCodes,
  ]);
  await app.register(analyticsRoutes, { config, feedback, verifier, now, reasonCodes });
  const callMetrics = createCallMetrics();
  // Feedback refused while the database is down: the client is told when to try again.
  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof FeedbackStoreUnavailableError) {
      void reply.header('retry-after', String(error.retryAfterSeconds));
    }
  });
  const adminApp =
    config.server.metricsPort === undefined
      ? null
      : Fastify({ loggerInstance: app.log, requestIdHeader: false, genReqId: requestIdOf });
  app.decorate('adminApp', adminApp);
  if (adminApp) {
    installErrorHandler(adminApp);
    sendRequestId(adminApp);
    adminApp.setNotFoundHandler(notFoundHandler);
    app.addHook('onClose', async () => {
      await adminApp.close();
    });
  }
  const hookMetrics = installHookMetrics(app, deps.catalog.endpoints.keys());
  const outageMetrics = new Registry();
  registerOutageMetrics(outageMetrics, { feedback: feedback.health, replayFallbacks: () => replayFallbacks });
  await (adminApp ?? app).register(metricsRoutes, {
    feedback,
    reasonCodes,
    registries: [callMetrics.registry, outageMetrics, hookMetrics.registry],
  });
  await app.register(cdsRoutes, {
    catalog: deps.catalog,
    config,
    feedback,
    now,
    fetch: deps.fetch,
    fhirCache: createFhirReadCache({ ttlMs: config.fhir.cacheTtlMs }),
    metrics: callMetrics,
    verifier,
  });
  return app;
}
