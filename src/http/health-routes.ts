import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';

export interface HealthState {
  /** Set when shutdown begins, so load balancers stop sending traffic before the server closes. */
  closing: boolean;
}

const StatusSchema = z.object({ status: z.string() });

/** Liveness (the process answers) and readiness (it should get traffic). */
export const healthRoutes: FastifyPluginAsyncZod<{ state: HealthState }> = async (app, { state }) => {
  app.get(
    '/healthz',
    { config: { rateLimit: false }, schema: { tags: ['operations'], response: { 200: StatusSchema } } },
    async () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: { tags: ['operations'], response: { 200: StatusSchema, 503: StatusSchema } },
    },
    async (_request, reply) =>
      state.closing ? reply.code(503).send({ status: 'closing' }) : { status: 'ready' },
  );
};
