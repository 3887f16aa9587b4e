// `npm run soak`: holds a steady rate against the service for a set time (complete prefetch from the
// benchmark patient) and reports errors and how the service's RSS moved between the first and last minute.
// SOAK_SECONDS (default 300), SOAK_RATE (default 300 req/s), SOAK_SERVICE (default vitamin-d-back-pain).
// SOAK_AUTH=true: the production path, every call with an ES384 JWT and a fresh jti (signed as it is sent).
// The service runs with its production defaults (rate limit included), except a quieter log level.
// The load runs in one-minute slices, so the first and last minute's throughput and p99 can be compared.
import { tmpdir } from 'node:os';
import { buildHookRequest } from '../sandbox/ehr-client.js';
import { createBenchClient, type LoadResult, load, memoryOf, startChild } from './harness.js';
import { BENCH_PATIENT_ID } from './realistic-patient.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 300);
const RATE = Number(process.env['SOAK_RATE'] ?? 300);
const SERVICE = process.env['SOAK_SERVICE'] ?? 'vitamin-d-back-pain';
const WARM_UP_SECONDS = 60;
const SAMPLE_MS = 5000;
const AUTH = process.env['SOAK_AUTH'] === 'true';
/** The first and last minute may differ by this much in throughput and p99. */
const STEADY_TOLERANCE = 0.1;
if (!(SECONDS >= 120)) {
  // The first and the last minute are compared: anything shorter compares a minute with itself.
  process.stderr.write(`SOAK_SECONDS must be at least 120 (got ${process.env['SOAK_SECONDS'] ?? ''})\n`);
  process.exit(2);
}

const sandbox = await startChild(
  ['--import', 'tsx', 'src/tools/bench/sandbox-server.ts'],
  { SANDBOX_PORT: '8198' },
  'http://127.0.0.1:8198',
  '/fhir/R4/metadata',
);
const client = AUTH ? await createBenchClient() : undefined;
const base = 'http://127.0.0.1:3903';
const service = await startChild(
  ['dist/server.js'],
  {
    PORT: '3903',
    LOG_LEVEL: 'warn',
    FEEDBACK_SQLITE_FILE: `${tmpdir()}/vitamin-cds-soak-${process.pid}.sqlite`,
    ...(client ? { AUTH_ISSUERS: client.issuers, PUBLIC_BASE_URL: base } : {}),
  },
  base,
);
try {
  const discoveryToken = client ? await client.sign(`${base}/cds-services`, 1) : undefined;
  const request = await buildHookRequest({
    serviceUrl: service.url,
    serviceId: SERVICE,
    hook: 'patient-view',
    patientId: BENCH_PATIENT_ID,
    fhirServer: 'http://127.0.0.1:8198/fhir/R4',
    accessToken: 'bench-token',
    withPrefetch: true,
    ...(discoveryToken ? { authorize: async () => ({ authorization: `Bearer ${discoveryToken()}` }) } : {}),
  });
  const body = JSON.stringify({ ...request, fhirServer: undefined, fhirAuthorization: undefined });
  const url = `${service.url}/cds-services/${SERVICE}`;
  const pid = service.process.pid ?? 0;
  // A fresh token for every call, signed as it is sent: 200,000 tokens signed ahead took longer than the
  // soak itself on this shared machine. The signing shares the CPU with the service.
  const nextToken = client?.signer(url);
  const warmUp = await load({
    url,
    method: 'POST',
    body,
    seconds: WARM_UP_SECONDS,
    rate: RATE,
    connections: 8,
    nextToken,
  });
  // RSS saws up and down with each major collection (by a fifth on this service); a leak shows as a rising
  // envelope. So the first and the last minute are compared by their highest sample, not a single reading.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memoryOf(pid).rssMiB), SAMPLE_MS);
  const minutes: LoadResult[] = [];
  for (let left = SECONDS; left > 0; left -= 60) {
    minutes.push(
      await load({
        url,
        method: 'POST',
        body,
        seconds: Math.min(60, left),
        rate: RATE,
        connections: 8,
        nextToken,
        serverPid: pid,
      }),
    );
  }
  const total = minutes.reduce((sum, minute) => sum + minute.total, 0);
  const soak = {
    total,
    errors: minutes.reduce((sum, minute) => sum + minute.errors, 0),
    p50: Math.max(...minutes.map((minute) => minute.p50)),
    p99: Math.max(...minutes.map((minute) => minute.p99)),
    requestsPerSecond: total / SECONDS,
    cpuMicrosPerCall:
      minutes.reduce((sum, minute) => sum + (minute.cpuMicrosPerCall ?? 0) * minute.total, 0) /
      Math.max(total, 1),
  };
  // What a replica needs at this rate: the CPU request of a pod (docker/k8s/deployment.yaml) comes from here.
  const cores = (soak.cpuMicrosPerCall * soak.requestsPerSecond) / 1e6;
  const [firstSlice, lastSlice] = [minutes[0], minutes.at(-1)];
  clearInterval(sampler);
  const perMinute = 60_000 / SAMPLE_MS;
  const firstMinute = Math.max(...samples.slice(0, perMinute));
  const lastMinute = Math.max(...samples.slice(-perMinute));
  const growth = (100 * (lastMinute - firstMinute)) / firstMinute;
  const change = (pick: (slice: LoadResult) => number) =>
    firstSlice && lastSlice ? (pick(lastSlice) - pick(firstSlice)) / pick(firstSlice) : 0;
  const throughputChange = change((slice) => slice.requestsPerSecond);
  // p99 of a few milliseconds moves by a millisecond in noise: compare with 1 ms of slack.
  const p99Change =
    firstSlice && lastSlice ? (lastSlice.p99 - firstSlice.p99 - 1) / Math.max(firstSlice.p99, 1) : 0;
  process.stdout.write(
    `soak ${SERVICE}${AUTH ? ' (ES384 JWT, fresh jti per call)' : ''}: ${SECONDS} s at ${RATE} req/s after ${WARM_UP_SECONDS} s warm-up\n` +
      `  first minute ${firstSlice?.requestsPerSecond.toFixed(0)} req/s, p99 ${firstSlice?.p99} ms; last minute ${lastSlice?.requestsPerSecond.toFixed(0)} req/s, p99 ${lastSlice?.p99} ms` +
      ` (throughput ${(100 * throughputChange).toFixed(1)}%)\n` +
      `  p99 per minute (ms): ${minutes.map((minute) => minute.p99).join(' ')}\n` +
      `  requests ${soak.total}, errors ${soak.errors + warmUp.errors}, achieved ${soak.requestsPerSecond.toFixed(0)} req/s, p50 ${soak.p50} ms, p99 ${soak.p99} ms\n` +
      `  service CPU ${soak.cpuMicrosPerCall.toFixed(0)} µs per call, ${cores.toFixed(2)} cores at the achieved rate\n` +
      `  highest RSS in the first minute ${firstMinute.toFixed(0)} MiB, in the last minute ${lastMinute.toFixed(0)} MiB ` +
      `(${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%)\n` +
      `  RSS every 30 s (MiB): ${samples
        .filter((_, index) => (index + 1) % (30_000 / SAMPLE_MS) === 0)
        .map((rss) => rss.toFixed(0))
        .join(' ')}\n`,
  );
  if (
    soak.errors + warmUp.errors > 0 ||
    Math.abs(growth) > 20 ||
    Math.abs(throughputChange) > STEADY_TOLERANCE ||
    p99Change > STEADY_TOLERANCE
  ) {
    process.exitCode = 1;
  }
} finally {
  await service.stop();
  await sandbox.stop();
}
