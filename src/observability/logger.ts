import type { FastifyServerOptions } from 'fastify';

/**
 * Paths pino redacts wherever they appear. Bodies are never logged at all (they carry patient data); these
 * catch a header or a token that reaches a log line by another route.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'fhirAuthorization',
  '*.fhirAuthorization',
  'access_token',
  '*.access_token',
  'prefetch',
  'context',
];

/** Pino options for the service: JSON lines, ISO time, string levels; pretty only on a terminal. */
export function loggerOptions(
  level: string,
  pretty = process.stdout.isTTY,
): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}
