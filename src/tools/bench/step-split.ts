// The CPU one authenticated hook call spends in each step, measured in this process on the bench's own body
// and tokens: each step runs alone many times over and is timed with process.cpuUsage, so the split is not
// blurred by the HTTP layer or by the machine's neighbours. What the service spends beyond the sum (HTTP,
// Fastify's hooks, helmet, CORS, rate limits, metrics) is the bench's measured CPU per call minus this sum.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import Fastify, { type FastifyRequest } from 'fastify';
import { createJwtVerifier } from '../../auth/jwt-verifier.js';
import { loadCatalog } from '../../catalog/load-catalog.js';
import { decide } from '../../cds/decide.js';
import { gatherData } from '../../cds/gather-data.js';
import { parseRequest } from '../../cds/parse-request.js';
import { recordCall } from '../../cds/record-call.js';
import { renderCards } from '../../cds/render-cards.js';
import { loadConfig } from '../../config.js';
import { openFeedbackService } from '../../feedback/feedback-service.js';
import { nullValueProblem } from '../../http/null-values.js';
import { CdsRequestSchema } from '../../schemas/wire-schemas.js';

export interface StepSplit {
  /** Microseconds of CPU per call, by step, in the order a call takes them. */
  readonly steps: readonly { readonly step: string; readonly micros: number }[];
  readonly totalMicros: number;
}

const WARMUP = 300;

/** CPU microseconds per run of `step`, over `runs` runs after a warm-up (so the JIT has settled). */
async function cpuPerRun(runs: number, step: (index: number) => unknown): Promise<number> {
  for (let index = 0; index < WARMUP; index++) {
    await step(index);
  }
  const before = process.cpuUsage();
  for (let index = 0; index < runs; index++) {
    await step(WARMUP + index);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / runs;
}

/**
 * Times each step of one call of `serviceId` with `body`, on a service configured as the bench's
 * authenticated one. `signTokens(count)` signs that many tokens for the endpoint ahead of the timing, one
 * per verification, so the replay memory sees each jti once.
 */
export async function measureStepSplit(options: {
  readonly serviceId: string;
  readonly body: string;
  readonly issuers: string;
  readonly publicBaseUrl: string;
  readonly signTokens: (count: number) => Promise<() => string>;
  readonly runs: number;
}): Promise<StepSplit> {
  const sqliteFile = `${tmpdir()}/vitamin-cds-step-split-${process.pid}.sqlite`;
  const config = loadConfig({
    ...process.env,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    AUTH_ISSUERS: options.issuers,
    PUBLIC_BASE_URL: options.publicBaseUrl,
    FEEDBACK_SQLITE_FILE: sqliteFile,
  });
  if (!config.auth) {
    throw new Error('the step split needs the authenticated configuration');
  }
  // Logs at warn go nowhere here, as at LOG_LEVEL=warn in the bench: the "hook answered" line is not written.
  const log = pino({ level: 'warn' }, pino.destination('/dev/null'));
  const catalog = await loadCatalog(config.catalog);
  const endpoint = catalog.endpoints.get(options.serviceId);
  if (!endpoint) {
    throw new Error(`no service ${options.serviceId}`);
  }
  const { service } = endpoint;
  const feedback = await openFeedbackService(config, log);
  const verifier = createJwtVerifier(config.auth);
  const audience = `${options.publicBaseUrl}/cds-services/${options.serviceId}`;
  const deps = { config, catalog, feedback, now: () => new Date() };
  const bindings = { serviceId: options.serviceId };
  // Fastify's own body parser, as the service is configured (prototype poisoning refused).
  const defaultParser = Fastify().getDefaultJsonParser('error', 'error');
  const parseBody = (text: string): unknown => {
    let parsedBody: unknown;
    void defaultParser({} as FastifyRequest, text, (error, value) => {
      if (error) {
        throw error;
      }
      parsedBody = value;
    });
    return parsedBody;
  };
  const request = CdsRequestSchema.parse(parseBody(options.body));
  // One token for the call the later steps reuse, and one per timed and warm-up verification.
  const nextToken = await options.signTokens(1 + WARMUP + options.runs);
  const client = await verifier.verify(nextToken(), audience);
  const parsed = parseRequest(service, request);
  const gathered = await gatherData(service, request, deps, client, log, bindings);
  const decision = await decide(service, parsed, gathered, deps, client, log, bindings);
  const cards = renderCards(catalog, service, request.hookInstance, parsed, decision);

  const runs = options.runs;
  const steps = [
    {
      step: 'JSON parse (Fastify default parser)',
      micros: await cpuPerRun(runs, () => parseBody(options.body)),
    },
    {
      step: 'auth (ES384 verify, claims, replay memory)',
      micros: await cpuPerRun(runs, () => verifier.verify(nextToken(), audience)),
    },
    {
      step: 'validation (null walk, zod body, hook context)',
      micros: await cpuPerRun(runs, () => {
        nullValueProblem(request, true);
        return parseRequest(service, CdsRequestSchema.parse(request));
      }),
    },
    {
      step: 'gather (prefetch resolved and checked)',
      micros: await cpuPerRun(runs, () => gatherData(service, request, deps, client, log, bindings)),
    },
    {
      step: 'rules (patient record, rules, snoozes)',
      micros: await cpuPerRun(runs, () => decide(service, parsed, gathered, deps, client, log, bindings)),
    },
    {
      step: 'rendering (cards, orders, JSON answer)',
      micros: await cpuPerRun(runs, () =>
        JSON.stringify({ cards: renderCards(catalog, service, request.hookInstance, parsed, decision) }),
      ),
    },
    {
      step: 'recording (cards shown, batched: the store writes every 200 cards here)',
      micros: await cpuPerRun(runs, (index) => {
        recordCall(feedback, `split-${index}`, parsed, gathered, decision, cards, log, bindings);
      }),
    },
  ];
  await feedback.close();
  await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${sqliteFile}${suffix}`, { force: true })));
  return { steps, totalMicros: steps.reduce((total, { micros }) => total + micros, 0) };
}
