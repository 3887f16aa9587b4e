import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import type { JwtVerifier } from '../auth/jwt-verifier.js';
import type { Config } from '../config.js';
import { DAY_MS } from '../domain/fhir-time.js';
import type { FeedbackService } from '../feedback/feedback-service.js';
import { type AnalyticsRow, nullPrototype } from '../feedback/feedback-store.js';
import { createAuthHook } from './auth-hook.js';
import {
  AnalyticsQuerySchema,
  AnalyticsResponseSchema,
  ErrorResponseSchema,
} from '../schemas/wire-schemas.js';
import { BadRequestError, FeedbackStoreUnavailableError } from '../errors.js';

/** Override reasons as reported: the codes cards offer (and "none"); any other code a client sent is "other". */
export function foldOverrideReasons(
  rows: readonly AnalyticsRow[],
  knownCodes: ReadonlySet<string>,
): AnalyticsRow[] {
  return rows.map((row) => {
    const reasons = nullPrototype<number>();
    for (const [code, count] of Object.entries(row.overrideReasons)) {
      const label = code === 'none' || knownCodes.has(code) ? code : 'other';
      reasons[label] = (reasons[label] ?? 0) + count;
    }
    return { ...row, overrideReasons: reasons };
  });
}

/**
 * What clinicians did with the cards, for CDS governance: per service and rule, cards shown, accepted, and
 * overridden with each reason, over a time range (authenticated like the CDS endpoints).
 */
export const analyticsRoutes: FastifyPluginAsyncZod<{
  config: Config;
  feedback: FeedbackService;
  verifier: JwtVerifier | null;
  now: () => Date;
  /** The override reason codes reported as themselves; others are counted as "other". */
  reasonCodes: ReadonlySet<string>;
}> = async (app, { config, feedback, verifier, now, reasonCodes }) => {
  app.addHook(
    'onRequest',
    createAuthHook(verifier, { publicBaseUrl: config.server.publicBaseUrl, protectDiscovery: true }),
  );
  app.get(
    '/analytics/cards',
    {
      schema: {
        summary: 'Card outcomes per service and rule',
        tags: ['analytics'],
        querystring: AnalyticsQuerySchema,
        response: { 200: AnalyticsResponseSchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema },
      },
    },
    async (request) => {
      const to = request.query.to ? new Date(request.query.to) : now();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 30 * DAY_MS);
      if (from >= to) {
        throw new BadRequestError('from must be before to');
      }
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        rules: foldOverrideReasons(await feedback.analytics(from, to), reasonCodes),
      };
    },
  );
};

/**
 * The same counts as Prometheus metrics, read from the store at scrape time, so every replica reports the
 * shared totals; plus the process's own metrics.
 */
export const metricsRoutes: FastifyPluginAsyncZod<{
  feedback: FeedbackService;
  reasonCodes: ReadonlySet<string>;
  /** Counts other parts keep (the call path's skipped rules), served alongside. */
  registries?: readonly Registry[];
}> = async (app, { feedback, reasonCodes, registries = [] }) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // All-time totals: counters only ever grow.
  const since = new Date(0);
  const until = new Date('9999-12-31T00:00:00Z');
  const shown = new Counter({
    name: 'cds_cards_shown_total',
    help: 'Cards returned, by service and rule',
    labelNames: ['service', 'rule'],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'cds_card_feedback_total',
    help: 'Feedback on cards, by service, rule, outcome and override reason',
    labelNames: ['service', 'rule', 'outcome', 'reason'],
    registers: [registry],
  });
  const served = registries.length > 0 ? Registry.merge([registry, ...registries]) : registry;
  app.get(
    '/metrics',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'Prometheus metrics (text exposition format): card and feedback counts, process metrics',
        tags: ['operations'],
        produces: ['text/plain'],
      },
    },
    async (_request, reply) => {
      // With the store down, the card counts keep their last values; cds_feedback_store_up says why.
      const analytics = await feedback.analytics(since, until).catch((error: unknown) => {
        if (error instanceof FeedbackStoreUnavailableError) {
          return undefined;
        }
        throw error;
      });
      if (analytics) {
        // Label values stay few: services and rules are ours, unknown reason codes fold into "other".
        const rows = foldOverrideReasons(analytics, reasonCodes);
        shown.reset();
        outcomes.reset();
        for (const row of rows) {
          const labels = { service: row.serviceId, rule: row.ruleId };
          shown.inc(labels, row.shown);
          outcomes.inc({ ...labels, outcome: 'accepted', reason: '' }, row.accepted);
          for (const [reason, count] of Object.entries(row.overrideReasons)) {
            outcomes.inc({ ...labels, outcome: 'overridden', reason }, count);
          }
        }
      }
      return reply.type(registry.contentType).send(await served.metrics());
    },
  );
};
