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

/** Thrown when LOG_PRETTY=true where pino-pretty, a development dependency, is not installed. */
export class PrettyLogsUnavailableError extends Error {
  override readonly name = 'PrettyLogsUnavailableError' as const;
  constructor() {
    super(
      'LOG_PRETTY=true needs pino-pretty, a development dependency that is not installed here (the production image leaves it out): unset LOG_PRETTY for JSON logs, or pipe them through `npx pino-pretty`',
    );
  }
}

function prettyTransportInstalled(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/**
 * Pino options for the service: JSON lines, ISO time, string levels. Pretty output only when asked for
 * (LOG_PRETTY), never because stdout is a terminal: `docker run -it` gives the production image a TTY, and
 * the image has no pino-pretty.
 * @param level - the pino level
 * @param pretty - human-readable lines through pino-pretty
 * @param transportInstalled - whether pino-pretty can be loaded (injected in tests)
 */
export function loggerOptions(
  level: string,
  pretty = false,
  transportInstalled = prettyTransportInstalled,
): NonNullable<FastifyServerOptions['logger']> {
  if (pretty && !transportInstalled()) {
    throw new PrettyLogsUnavailableError();
  }
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}
