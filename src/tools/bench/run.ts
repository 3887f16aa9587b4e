// `npm run bench`: throughput, latency and peak memory of the service on loopback, beside a bare Fastify
// ceiling for the same payloads. Every server runs in its own process; the figures are comparable within
// one run (the machine is shared), so the ratios are what to read.
import { cpus, tmpdir } from 'node:os';
import { buildHookRequest } from '../sandbox/ehr-client.js';
import { type Child, createBenchClient, type LoadResult, load, memoryOf, startChild } from './harness.js';
import { BENCH_PATIENT_ID } from './realistic-patient.js';
import { measureStepSplit, type StepSplit } from './step-split.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const STEADY_RATE = 300;
/** The ceiling and each service take turns this many times (SECONDS in all for each). */
const ROUNDS = 4;
const SERVICES = ['vitamin-d-back-pain', 'spine-preop-vitamin-d', 'b12-drug-risk'] as const;
const SERVICE_PORT = 3901;
const CEILING_PORT = 3902;
const SANDBOX_PORT = 8199;
/** BENCH_ONLY=auth runs only the authenticated scenario (a quick check on a busy machine). */
const ONLY_AUTH = process.env['BENCH_ONLY'] === 'auth';
/** More than the service can verify per second (ES384 costs ~0.8 ms of CPU): tokens are never reused. */
const AUTH_CALLS_PER_SECOND_BOUND = 2000;
/**
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile of every service process and of the authenticated ceiling into
 * DIR (open them in Chrome DevTools), so the two can be compared function by function.
 */
const CPU_PROFILE_DIR = process.env['BENCH_CPU_PROF'];
const PROFILE_FLAGS = CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : [];
const SERVICE_COMMAND = [...PROFILE_FLAGS, 'dist/server.js'];

const serviceEnv = (extra: Record<string, string> = {}) => ({
  PORT: String(SERVICE_PORT),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_MAX: '1000000000',
  FHIR_DEADLINE_MS: '5000',
  FEEDBACK_SQLITE_FILE: `${tmpdir()}/vitamin-cds-bench-${process.pid}.sqlite`,
  ...extra,
});

interface Row {
  readonly scenario: string;
  readonly max: LoadResult;
  readonly steady?: LoadResult;
  readonly peakMiB: number;
  readonly ceiling?: LoadResult;
}

/** A run at the steady rate, with the server's CPU per call. */
function steadyLoad(
  child: Child,
  path: string,
  method: 'GET' | 'POST',
  body?: string,
  nextToken?: () => string,
): Promise<LoadResult> {
  return load({
    url: `${child.url}${path}`,
    method,
    ...(body ? { body } : {}),
    seconds: SECONDS,
    rate: STEADY_RATE,
    connections: 8,
    serverPid: child.process.pid,
    nextToken,
  });
}

async function measure(
  child: Child,
  scenario: string,
  path: string,
  method: 'GET' | 'POST',
  body?: string,
  withSteady = true,
  measuredMax?: LoadResult,
  nextToken?: () => string,
): Promise<Row> {
  const url = `${child.url}${path}`;
  let max = measuredMax;
  if (!max) {
    await load({ url, method, ...(body ? { body } : {}), seconds: 2 });
    max = await load({ url, method, ...(body ? { body } : {}), seconds: SECONDS });
  }
  const steady = withSteady ? await steadyLoad(child, path, method, body, nextToken) : undefined;
  const { peakMiB } = memoryOf(child.process.pid ?? 0);
  return { scenario, max, ...(steady ? { steady } : {}), peakMiB };
}

/** Throughput of the ceiling and the service in alternating rounds; each side's rounds pooled. */
async function alternate(
  ceilingChild: Child,
  service: Child,
  path: string,
  body: string,
  tokens?: { ceiling: () => string; service: () => string },
): Promise<{ ceiling: LoadResult; max: LoadResult }> {
  const run = (child: Child, seconds: number) =>
    load({
      url: `${child.url}${path}`,
      method: 'POST',
      body,
      seconds,
      nextToken: child === service ? tokens?.service : tokens?.ceiling,
    });
  await run(ceilingChild, 2);
  await run(service, 2);
  const ceilingRounds: LoadResult[] = [];
  const serviceRounds: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ceilingRounds.push(await run(ceilingChild, SECONDS / ROUNDS));
    serviceRounds.push(await run(service, SECONDS / ROUNDS));
  }
  // The same steady rate the service's row reports, for the CPU each side spends per call.
  const ceilingSteady = await steadyLoad(ceilingChild, path, 'POST', body, tokens?.ceiling);
  return {
    ceiling: {
      ...pool(ceilingRounds),
      ...(ceilingSteady.cpuMicrosPerCall ? { cpuMicrosPerCall: ceilingSteady.cpuMicrosPerCall } : {}),
    },
    max: pool(serviceRounds),
  };
}

/** Rounds of equal length pooled: mean throughput and p50, the worst p99, every error. */
function pool(rounds: readonly LoadResult[]): LoadResult {
  const sum = (pick: (round: LoadResult) => number) =>
    rounds.reduce((total, round) => total + pick(round), 0);
  return {
    requestsPerSecond: sum((round) => round.requestsPerSecond) / rounds.length,
    p50: sum((round) => round.p50) / rounds.length,
    p99: Math.max(...rounds.map((round) => round.p99)),
    errors: sum((round) => round.errors),
    total: sum((round) => round.total),
  };
}

function format(rows: readonly Row[]): string {
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    `p99 ms @${STEADY_RATE}/s`,
    'errors',
    'peak RSS MiB',
    'ceiling req/s',
    'of ceiling',
    `CPU µs/call @${STEADY_RATE}/s`,
    'ceiling CPU µs/call',
    'of ceiling (CPU)',
  ];
  const lines = rows.map((row) => [
    row.scenario,
    row.max.requestsPerSecond.toFixed(0),
    row.max.p50.toFixed(1),
    row.max.p99.toFixed(1),
    row.steady ? row.steady.p99.toFixed(1) : '',
    String(row.max.errors + (row.steady?.errors ?? 0)),
    row.peakMiB.toFixed(0),
    row.ceiling ? row.ceiling.requestsPerSecond.toFixed(0) : '',
    row.ceiling ? `${((100 * row.max.requestsPerSecond) / row.ceiling.requestsPerSecond).toFixed(0)}%` : '',
    row.steady?.cpuMicrosPerCall?.toFixed(0) ?? '',
    row.ceiling?.cpuMicrosPerCall?.toFixed(0) ?? '',
    row.ceiling?.cpuMicrosPerCall && row.steady?.cpuMicrosPerCall
      ? `${((100 * row.ceiling.cpuMicrosPerCall) / row.steady.cpuMicrosPerCall).toFixed(0)}%`
      : '',
  ]);
  return markdownTable(header, lines);
}

/** A Markdown table whose columns line up in plain text too. */
function markdownTable(header: readonly string[], lines: readonly (readonly string[])[]): string {
  const widths = header.map((title, index) =>
    Math.max(title.length, ...lines.map((line) => line[index]?.length ?? 0)),
  );
  const render = (cells: readonly string[]) =>
    `| ${cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join(' | ')} |`;
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...lines.map(render)].join('\n');
}

/** Runs of each step in the in-process split (after its warm-up). */
const SPLIT_RUNS = 2000;

/** The split of one authenticated call, beside what the service and the ceiling spent per call over HTTP. */
function formatSplit(split: StepSplit, row: Row): string {
  const serviceMicros = row.steady?.cpuMicrosPerCall;
  const lines = split.steps.map(({ step, micros }) => [step, micros.toFixed(0)]);
  lines.push(['all steps', split.totalMicros.toFixed(0)]);
  if (serviceMicros !== undefined) {
    lines.push([
      `everything else (HTTP, Fastify's hooks, GC, background): the service's ${serviceMicros.toFixed(0)} µs at ${STEADY_RATE}/s less the steps`,
      (serviceMicros - split.totalMicros).toFixed(0),
    ]);
  }
  if (row.ceiling?.cpuMicrosPerCall !== undefined) {
    lines.push(['the authenticated ceiling, whole call', row.ceiling.cpuMicrosPerCall.toFixed(0)]);
  }
  return markdownTable(['step', 'CPU µs/call'], lines);
}

const rows: Row[] = [];
let split: { serviceId: string; result: StepSplit; row: Row };
const sandbox = await startChild(
  ['--import', 'tsx', 'src/tools/bench/sandbox-server.ts'],
  { SANDBOX_PORT: String(SANDBOX_PORT) },
  `http://127.0.0.1:${SANDBOX_PORT}`,
  '/fhir/R4/metadata',
);
const fhirServer = `http://127.0.0.1:${SANDBOX_PORT}/fhir/R4`;
try {
  // Bodies as an EHR builds them: complete prefetch read from the same FHIR server, or none.
  const bodies = new Map<string, { withPrefetch: string; withoutPrefetch: string }>();
  {
    const service = await startChild(SERVICE_COMMAND, serviceEnv(), `http://127.0.0.1:${SERVICE_PORT}`);
    for (const serviceId of SERVICES) {
      const common = {
        serviceUrl: service.url,
        serviceId,
        hook: 'patient-view' as const,
        patientId: BENCH_PATIENT_ID,
        fhirServer,
        accessToken: 'bench-token',
      };
      bodies.set(serviceId, {
        withPrefetch: JSON.stringify({
          ...(await buildHookRequest({ ...common, withPrefetch: true })),
          fhirServer: undefined,
          fhirAuthorization: undefined,
        }),
        withoutPrefetch: JSON.stringify(await buildHookRequest({ ...common, withPrefetch: false })),
      });
    }
    if (!ONLY_AUTH) {
      rows.push(await measure(service, 'discovery', '/cds-services', 'GET'));
    }
    await service.stop();
  }
  {
    // The production path: every call carries an ES384 JWT with a fresh jti, signed before the run.
    const serviceId = 'vitamin-d-back-pain';
    const body = bodies.get(serviceId)?.withPrefetch ?? '';
    const path = `/cds-services/${serviceId}`;
    const client = await createBenchClient();
    const base = `http://127.0.0.1:${SERVICE_PORT}`;
    const service = await startChild(
      SERVICE_COMMAND,
      serviceEnv({ AUTH_ISSUERS: client.issuers, PUBLIC_BASE_URL: base }),
      base,
    );
    const count = AUTH_CALLS_PER_SECOND_BOUND * (SECONDS + 2) + STEADY_RATE * SECONDS + 1;
    const serviceToken = await client.sign(`${base}${path}`, count);
    // The ceiling keeps no replay memory: a smaller pool, reused, costs it the same verification.
    const ceilingToken = await client.sign(`${base}${path}`, 2000);
    const first = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${serviceToken()}` },
      body,
    });
    const answer = await first.text();
    if (first.status !== 200) {
      throw new Error(`the authenticated service answered ${first.status}`);
    }
    const ceilingChild = await startChild(
      [...PROFILE_FLAGS, '--import', 'tsx', 'src/tools/bench/auth-ceiling-server.ts'],
      {
        PORT: String(CEILING_PORT),
        CEILING_JWKS: JSON.stringify(client.publicJwks),
        CEILING_ISS: client.iss,
        CEILING_BASE_URL: base,
        CEILING_ANSWER: answer,
      },
      `http://127.0.0.1:${CEILING_PORT}`,
    );
    const { ceiling, max } = await alternate(ceilingChild, service, path, body, {
      ceiling: ceilingToken,
      service: serviceToken,
    });
    await ceilingChild.stop();
    const row = await measure(
      service,
      `${serviceId}, prefetch, ES384 JWT, fresh jti (auth ceiling)`,
      path,
      'POST',
      body,
      true,
      max,
      serviceToken,
    );
    const authRow = { ...row, ceiling };
    rows.push(authRow);
    await service.stop();
    // The same call, step by step, in this process (the service and the ceiling are stopped; the sandbox idles).
    split = {
      serviceId,
      row: authRow,
      result: await measureStepSplit({
        serviceId,
        body,
        issuers: client.issuers,
        publicBaseUrl: base,
        signTokens: (count) => client.sign(`${base}${path}`, count),
        runs: SPLIT_RUNS,
      }),
    };
  }
  for (const serviceId of ONLY_AUTH ? [] : SERVICES) {
    const body = bodies.get(serviceId)?.withPrefetch ?? '';
    const path = `/cds-services/${serviceId}`;
    const ceilingChild = await startChild(
      ['--import', 'tsx', 'src/tools/bench/ceiling-server.ts'],
      { PORT: String(CEILING_PORT) },
      `http://127.0.0.1:${CEILING_PORT}`,
    );
    const service = await startChild(SERVICE_COMMAND, serviceEnv(), `http://127.0.0.1:${SERVICE_PORT}`);
    // Both run side by side and take turns, so a neighbour's burst on this shared machine falls on both.
    const { ceiling, max } = await alternate(ceilingChild, service, path, body);
    await ceilingChild.stop();
    const row = await measure(
      service,
      `${serviceId}, prefetch (${(body.length / 1024).toFixed(0)} KiB)`,
      path,
      'POST',
      body,
      true,
      max,
    );
    rows.push({ ...row, ceiling });
    await service.stop();
  }
  for (const [label, cacheMs] of [
    ['no prefetch, FHIR reads', '0'],
    ['no prefetch, burst cache', '10000'],
  ] as const) {
    for (const serviceId of ONLY_AUTH ? [] : SERVICES) {
      const service = await startChild(
        SERVICE_COMMAND,
        serviceEnv({ FHIR_CACHE_TTL_MS: cacheMs }),
        `http://127.0.0.1:${SERVICE_PORT}`,
      );
      rows.push(
        await measure(
          service,
          `${serviceId}, ${label}`,
          `/cds-services/${serviceId}`,
          'POST',
          bodies.get(serviceId)?.withoutPrefetch ?? '',
        ),
      );
      await service.stop();
    }
  }
} finally {
  await sandbox.stop();
}

process.stdout.write(
  `\nvitamin-cds bench, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
    `${SECONDS} s per run, 16 connections (prefetch runs: ${ROUNDS} alternating rounds with the ceiling); steady runs at ${STEADY_RATE} req/s with 8 connections; LOG_LEVEL=warn\n\n${format(rows)}\n`,
);
process.stdout.write(
  `\nCPU per authenticated call of ${split.serviceId} by step: each step alone, in the bench's own process, ${SPLIT_RUNS} runs after a warm-up\n\n${formatSplit(split.result, split.row)}\n`,
);
const failures = rows.filter((row) => row.max.errors + (row.steady?.errors ?? 0) > 0);
if (failures.length > 0) {
  process.stdout.write(`\nErrors in: ${failures.map((row) => row.scenario).join(', ')}\n`);
  process.exitCode = 1;
}
