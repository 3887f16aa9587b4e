import type { FastifyInstance } from 'fastify';
import { Histogram, Registry } from 'prom-client';

const HOOKS = new Set(['patient-view', 'order-select', 'order-sign']);

/** Hook latency and outcome, for the operators' dashboard (docker/grafana/cds-dashboard.json). */
export interface HookMetrics {
  readonly registry: Registry;
}

/**
 * Times every `POST /cds-services/{id}` from request to response, by service, hook and status. Labels take
 * only values we know (the discovery ids, the three hooks, a status code), never an outside string as is:
 * an unknown id is "unknown", a missing or unknown hook "other", so the series stay bounded.
 * @param app - the app whose service calls are timed
 * @param serviceIds - every id discovery lists
 */
export function installHookMetrics(app: FastifyInstance, serviceIds: Iterable<string>): HookMetrics {
  const registry = new Registry();
  const known = new Set(serviceIds);
  const duration = new Histogram({
    name: 'cds_hook_duration_seconds',
    help: 'Time to answer a CDS service call (POST /cds-services/{id}), by service, hook and HTTP status',
    labelNames: ['service', 'hook', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method === 'POST' && request.routeOptions.url === '/cds-services/:id') {
      const id = (request.params as { id?: unknown }).id;
      const hook = (request.body as { hook?: unknown } | undefined)?.hook;
      duration.observe(
        {
          service: typeof id === 'string' && known.has(id) ? id : 'unknown',
          hook: typeof hook === 'string' && HOOKS.has(hook) ? hook : 'other',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    }
    done();
  });
  return { registry };
}
