import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { TooManyFailedAuthenticationsError } from '../errors.js';

/**
 * Rate limits, shared by the replicas through Redis when configured (each replica counts alone otherwise).
 * A verified client is limited as itself: its issuer, plus its tenant only when the issuer has a tenant
 * list (else the tenant is whatever the client writes, and a new one would open a new bucket). Failed
 * authentications are limited per address, before any signature is checked, so a flood of forged tokens
 * costs neither CPU nor log lines past the limit. If Redis cannot be reached, calls are not limited.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  config: Config,
  redis: Redis | null,
): Promise<void> {
  const tenantedIssuers = new Set(
    (config.auth?.issuers ?? []).filter((issuer) => issuer.tenants).map((issuer) => issuer.iss),
  );
  // After authentication (onRequest), so a verified client is limited as itself rather than by address.
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    ...(redis ? { redis, nameSpace: 'rate-limit:', skipOnError: true } : {}),
    keyGenerator: (request) => {
      const client = request.cdsClient;
      if (!client) {
        return `ip ${request.ip}`;
      }
      return `client ${client.iss} ${tenantedIssuers.has(client.iss) ? (client.tenant ?? '') : ''}`;
    },
  });
  if (!config.auth) {
    return;
  }
  const failures = app.createRateLimit({
    max: config.rateLimit.authFailureMax,
    timeWindow: config.rateLimit.windowMs,
    keyGenerator: (request) => `auth-failures ${request.ip}`,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.rateLimit === false) {
      return; // health checks and metrics: never limited, never authenticated
    }
    const state = await failures(request, { increment: false });
    if (!state.isAllowed && state.remaining === 0) {
      void reply.header('retry-after', state.ttlInSeconds);
      throw new TooManyFailedAuthenticationsError(state.ttlInSeconds);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode !== 401) {
      return;
    }
    const state = await failures(request);
    if (!state.isAllowed && state.remaining === 0 && !state.isExceeded) {
      // Once per address and window: the failures that follow are answered 429 and not logged one by one.
      request.log.warn(
        { failures: state.max, windowSeconds: state.ttlInSeconds },
        'failed-authentication limit reached for this address',
      );
    }
  });
}
