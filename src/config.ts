import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  AlgorithmsSchema,
  type IssuerConfig,
  IssuersSchema,
  isLoopbackHost,
  resolveJwksFiles,
} from './auth/auth-config.js';
import { type ClinicalConfig, ClinicalConfigSchema } from './domain/clinical-config.js';

const DEFAULT_CDS_HOOKS_DIR = fileURLToPath(new URL('../cds-hooks/', import.meta.url));

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const booleanString = z.enum(['true', 'false']).transform((value) => value === 'true');

/** One zod model per concern; every problem is reported at once (see reportAndExit). */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  FHIR_DEADLINE_MS: z.coerce.number().int().positive().max(60_000).default(2000),
  FHIR_FETCH_WITHOUT_TOKEN: booleanString.default(true),
  FHIR_MAX_PAGES: z.coerce.number().int().positive().max(1000).default(20),
  FHIR_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(20 * 1024 * 1024),
  FHIR_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: booleanString.default(false),
  CORS_ORIGINS: csv.default(['*']),
  // On SIGTERM: how long to keep serving while /readyz says "closing", so the load balancer stops sending
  // calls before the server closes (at least the readiness probe's period times its failure threshold).
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(300_000).default(0),
  CDS_HOOKS_DIR: z.string().min(1).default(DEFAULT_CDS_HOOKS_DIR),
  CLINICAL_CONFIG_FILE: z.string().min(1).optional(),
  CARDS_OVERRIDE_FILE: z.string().min(1).optional(),
  ORDERS_OVERRIDE_FILE: z.string().min(1).optional(),
  AUTH_ISSUERS: z.string().min(1).optional(),
  AUTH_ISSUERS_FILE: z.string().min(1).optional(),
  AUTH_PROTECT_DISCOVERY: booleanString.default(true),
  AUTH_ALGORITHMS: csv.pipe(AlgorithmsSchema).default(['ES384', 'RS384']),
  AUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  AUTH_MAX_TOKEN_AGE_SECONDS: z.coerce.number().int().positive().max(86_400).default(3600),
  AUTH_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  FHIR_SERVER_ALLOWLIST: csv.default(['loopback']),
  FHIR_ALLOW_INSECURE_HTTP: booleanString.default(false),
  // Per client per window. An EHR's integration engine is one client for a whole hospital: its peak must
  // never be throttled, so the default sits above what one process can serve.
  RATE_LIMIT_MAX: z.coerce.number().int().positive().default(120_000),
  DATA_DIR: z.string().min(1).default('data'),
  FEEDBACK_SQLITE_FILE: z.string().min(1).optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  FEEDBACK_HASH_KEY: z.string().min(32, 'use at least 32 characters').optional(),
  SNOOZE_DAYS: z.coerce.number().positive().max(3650).default(30),
  FEEDBACK_RETENTION_DAYS: z.coerce.number().int().positive().max(36_500).default(730),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SNOOZE_REASON_CODES: csv.default(['tested-elsewhere', 'patient-declined', 'already-treated']),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().positive().default(60_000),
  // Failed authentications per address per window before it gets 429 instead of a signature check.
  AUTH_FAILURE_LIMIT: z.coerce.number().int().positive().default(30),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_KEY_PREFIX: z.string().default('vitamin-cds:'),
  TRUST_PROXY: z.string().min(1).default('false'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
});

/**
 * Fastify's trustProxy: "true" trusts any proxy (only behind a load balancer that sets X-Forwarded-For), a
 * number trusts that many hops, anything else is a comma-separated list of proxy addresses or CIDRs.
 */
function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  if (/^\d+$/.test(value)) {
    return Number(value);
  }
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export interface Config {
  readonly server: {
    readonly port: number;
    readonly host: string;
    readonly publicBaseUrl: string;
    readonly bodyLimitBytes: number;
    readonly shutdownDelayMs: number;
    readonly corsOrigins: readonly string[];
    /** Which proxies' X-Forwarded-For gives the client address (for rate limits and logs). */
    readonly trustProxy: boolean | number | readonly string[];
    /** When set, /metrics is served on this port only (an admin port kept off the public network). */
    readonly metricsPort: number | undefined;
    /** A client that has not sent all its headers, or its whole request, within these is disconnected. */
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
  };
  /** `pretty`: human-readable lines through pino-pretty (a development dependency) instead of JSON. */
  readonly log: { readonly level: string; readonly pretty: boolean };
  readonly fhir: {
    readonly deadlineMs: number;
    readonly fetchWithoutToken: boolean;
    readonly maxPages: number;
    /** A FHIR response larger than this is refused (412) without being read whole. */
    readonly maxResponseBytes: number;
    /** How long identical FHIR reads (same server, token and URL) are shared; 0 turns it off. */
    readonly cacheTtlMs: number;
    /** FHIR base URLs calls may name when unauthenticated; "loopback" means any loopback URL. */
    readonly serverAllowlist: readonly string[];
    /** Call allowlisted http:// FHIR servers outside loopback (private container networks only). */
    readonly allowInsecureHttp: boolean;
  };
  readonly catalog: {
    readonly dir: string;
    readonly cardsOverrideFile: string | undefined;
    readonly ordersOverrideFile: string | undefined;
  };
  readonly clinical: ClinicalConfig;
  /** Null: no trusted issuer, so calls are not authenticated (allowed only on a loopback address). */
  readonly auth: {
    readonly issuers: readonly IssuerConfig[];
    readonly protectDiscovery: boolean;
    readonly algorithms: readonly string[];
    readonly clockSkewSeconds: number;
    readonly maxTokenAgeSeconds: number;
    /** Shortest time between two downloads of one JWKS when a token names an unknown kid. */
    readonly jwksCooldownMs: number;
  } | null;
  readonly rateLimit: {
    readonly max: number;
    readonly windowMs: number;
    /** Failed authentications one address may make per window. */
    readonly authFailureMax: number;
  };
  /** Shared state of the replicas (replay memory, rate limits); null: PostgreSQL or this process. */
  readonly redis: { readonly url: string; readonly keyPrefix: string } | null;
  readonly feedback: {
    /** PostgreSQL when set (several replicas share snoozes); else SQLite. */
    readonly databaseUrl: string | undefined;
    readonly sqliteFile: string;
    /** Secret for the keyed hash of patient references; required with PostgreSQL. */
    readonly hashKey: string | undefined;
    readonly snoozeDays: number;
    readonly snoozeReasonCodes: readonly string[];
    /** Feedback and shown cards older than this are deleted in the background. */
    readonly retentionDays: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError' as const;
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = problems;
  }
}

function formatIssues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => `${prefix}${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

function readClinicalConfig(file: string | undefined, problems: string[]): ClinicalConfig | undefined {
  let raw: unknown = {};
  if (file) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      problems.push(`CLINICAL_CONFIG_FILE: cannot read ${file} as JSON (${(error as Error).message})`);
      return undefined;
    }
  }
  const parsed = ClinicalConfigSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...formatIssues('CLINICAL_CONFIG_FILE ', parsed.error));
    return undefined;
  }
  return parsed.data;
}

function readIssuers(
  inline: string | undefined,
  file: string | undefined,
  problems: string[],
): IssuerConfig[] | undefined {
  if (!inline && !file) {
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(inline ?? readFileSync(file ?? '', 'utf8'));
  } catch (error) {
    problems.push(
      `${inline ? 'AUTH_ISSUERS' : 'AUTH_ISSUERS_FILE'}: cannot read as JSON (${(error as Error).message})`,
    );
    return undefined;
  }
  const parsed = IssuersSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...formatIssues('AUTH_ISSUERS ', parsed.error));
    return undefined;
  }
  try {
    return resolveJwksFiles(parsed.data);
  } catch (error) {
    problems.push(`AUTH_ISSUERS: ${(error as Error).message}`);
    return undefined;
  }
}

/** Parses the environment once. Throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    problems.push(...formatIssues('', parsed.error));
  }
  const clinical = readClinicalConfig(
    parsed.data?.CLINICAL_CONFIG_FILE ?? env['CLINICAL_CONFIG_FILE'],
    problems,
  );
  const issuersGiven = Boolean(env['AUTH_ISSUERS'] ?? env['AUTH_ISSUERS_FILE']);
  const issuers = readIssuers(parsed.data?.AUTH_ISSUERS, parsed.data?.AUTH_ISSUERS_FILE, problems);
  if (parsed.success && !issuersGiven && !isLoopbackHost(parsed.data.HOST)) {
    // Secure by default: without a trusted issuer anyone could call the service, so only on loopback.
    problems.push(
      `HOST=${parsed.data.HOST} is not a loopback address and no trusted issuer is configured (AUTH_ISSUERS or AUTH_ISSUERS_FILE): refusing to run unauthenticated`,
    );
  }
  if (parsed.success && parsed.data.DATABASE_URL && !parsed.data.FEEDBACK_HASH_KEY) {
    // Every replica must hash a patient the same way, so the key cannot be made up locally.
    problems.push('FEEDBACK_HASH_KEY is required with DATABASE_URL');
  }
  if (!parsed.success || !clinical || problems.length > 0) {
    throw new ConfigError(problems);
  }
  const values = parsed.data;
  const base =
    values.PUBLIC_BASE_URL ??
    `http://${values.HOST.includes(':') ? `[${values.HOST}]` : values.HOST}:${values.PORT}`;
  return {
    server: {
      port: values.PORT,
      host: values.HOST,
      publicBaseUrl: base.replace(/\/+$/, ''),
      bodyLimitBytes: values.BODY_LIMIT_BYTES,
      headersTimeoutMs: Math.min(values.HTTP_HEADERS_TIMEOUT_MS, values.HTTP_REQUEST_TIMEOUT_MS),
      requestTimeoutMs: values.HTTP_REQUEST_TIMEOUT_MS,
      shutdownDelayMs: values.SHUTDOWN_DELAY_MS,
      corsOrigins: values.CORS_ORIGINS,
      trustProxy: parseTrustProxy(values.TRUST_PROXY),
      metricsPort: values.METRICS_PORT,
    },
    log: { level: values.LOG_LEVEL, pretty: values.LOG_PRETTY },
    fhir: {
      deadlineMs: values.FHIR_DEADLINE_MS,
      fetchWithoutToken: values.FHIR_FETCH_WITHOUT_TOKEN,
      maxPages: values.FHIR_MAX_PAGES,
      maxResponseBytes: values.FHIR_MAX_RESPONSE_BYTES,
      cacheTtlMs: values.FHIR_CACHE_TTL_MS,
      serverAllowlist: values.FHIR_SERVER_ALLOWLIST,
      allowInsecureHttp: values.FHIR_ALLOW_INSECURE_HTTP,
    },
    catalog: {
      dir: values.CDS_HOOKS_DIR,
      cardsOverrideFile: values.CARDS_OVERRIDE_FILE,
      ordersOverrideFile: values.ORDERS_OVERRIDE_FILE,
    },
    clinical,
    auth: issuers
      ? {
          issuers,
          protectDiscovery: values.AUTH_PROTECT_DISCOVERY,
          algorithms: values.AUTH_ALGORITHMS,
          clockSkewSeconds: values.AUTH_CLOCK_SKEW_SECONDS,
          maxTokenAgeSeconds: values.AUTH_MAX_TOKEN_AGE_SECONDS,
          jwksCooldownMs: values.AUTH_JWKS_COOLDOWN_MS,
        }
      : null,
    rateLimit: {
      max: values.RATE_LIMIT_MAX,
      windowMs: values.RATE_LIMIT_WINDOW_MS,
      authFailureMax: values.AUTH_FAILURE_LIMIT,
    },
    redis: values.REDIS_URL ? { url: values.REDIS_URL, keyPrefix: values.REDIS_KEY_PREFIX } : null,
    feedback: {
      databaseUrl: values.DATABASE_URL,
      sqliteFile: values.FEEDBACK_SQLITE_FILE ?? `${values.DATA_DIR.replace(/\/+$/, '')}/feedback.sqlite`,
      hashKey: values.FEEDBACK_HASH_KEY,
      snoozeDays: values.SNOOZE_DAYS,
      snoozeReasonCodes: values.SNOOZE_REASON_CODES,
      retentionDays: values.FEEDBACK_RETENTION_DAYS,
    },
  };
}
