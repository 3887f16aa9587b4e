// `npm run soak`: holds a steady rate against the service for a set time (complete prefetch from the
// benchmark patient) and reports errors and how the service's RSS moved between the first and last minute.
// SOAK_SECONDS (default 300), SOAK_RATE (default 300 req/s), SOAK_SERVICE (default vitamin-d-back-pain).
// The service runs with its production defaults (rate limit included), except a quieter log level.
import { tmpdir } from 'node:os';
import { buildHookRequest } from '../../src/sandbox/ehr-client.js';
import { load, memoryOf, startChild } from './harness.js';
import { BENCH_PATIENT_ID } from './realistic-patient.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 300);
const RATE = Number(process.env['SOAK_RATE'] ?? 300);
const SERVICE = process.env['SOAK_SERVICE'] ?? 'vitamin-d-back-pain';
const WARM_UP_SECONDS = 60;
const SAMPLE_MS = 5000;
if (!(SECONDS >= 120)) {
  // The first and the last minute are compared: anything shorter compares a minute with itself.
  process.stderr.write(`SOAK_SECONDS must be at least 120 (got ${process.env['SOAK_SECONDS'] ?? ''})\n`);
  process.exit(2);
}

const sandbox = await startChild(
  ['--import', 'tsx', 'scripts/bench/sandbox-server.ts'],
  { SANDBOX_PORT: '8198' },
  'http://127.0.0.1:8198',
  '/fhir/R4/metadata',
);
const service = await startChild(
  ['dist/server.js'],
  {
    PORT: '3903',
    LOG_LEVEL: 'warn',
    FEEDBACK_SQLITE_FILE: `${tmpdir()}/vitamin-cds-soak-${process.pid}.sqlite`,
  },
  'http://127.0.0.1:3903',
);
try {
  const request = await buildHookRequest({
    serviceUrl: service.url,
    serviceId: SERVICE,
    hook: 'patient-view',
    patientId: BENCH_PATIENT_ID,
    fhirServer: 'http://127.0.0.1:8198/fhir/R4',
    accessToken: 'bench-token',
    withPrefetch: true,
  });
  const body = JSON.stringify({ ...request, fhirServer: undefined, fhirAuthorization: undefined });
  const url = `${service.url}/cds-services/${SERVICE}`;
  const pid = service.process.pid ?? 0;
  const warmUp = await load({
    url,
    method: 'POST',
    body,
    seconds: WARM_UP_SECONDS,
    rate: RATE,
    connections: 8,
  });
  // RSS saws up and down with each major collection (by a fifth on this service); a leak shows as a rising
  // envelope. So the first and the last minute are compared by their highest sample, not a single reading.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memoryOf(pid).rssMiB), SAMPLE_MS);
  const soak = await load({ url, method: 'POST', body, seconds: SECONDS, rate: RATE, connections: 8 });
  clearInterval(sampler);
  const perMinute = 60_000 / SAMPLE_MS;
  const firstMinute = Math.max(...samples.slice(0, perMinute));
  const lastMinute = Math.max(...samples.slice(-perMinute));
  const growth = (100 * (lastMinute - firstMinute)) / firstMinute;
  process.stdout.write(
    `soak ${SERVICE}: ${SECONDS} s at ${RATE} req/s after ${WARM_UP_SECONDS} s warm-up\n` +
      `  requests ${soak.total}, errors ${soak.errors + warmUp.errors}, achieved ${soak.requestsPerSecond.toFixed(0)} req/s, p50 ${soak.p50} ms, p99 ${soak.p99} ms\n` +
      `  highest RSS in the first minute ${firstMinute.toFixed(0)} MiB, in the last minute ${lastMinute.toFixed(0)} MiB ` +
      `(${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%)\n` +
      `  RSS every 30 s (MiB): ${samples
        .filter((_, index) => (index + 1) % (30_000 / SAMPLE_MS) === 0)
        .map((rss) => rss.toFixed(0))
        .join(' ')}\n`,
  );
  if (soak.errors + warmUp.errors > 0 || Math.abs(growth) > 20) {
    process.exitCode = 1;
  }
} finally {
  await service.stop();
  await sandbox.stop();
}
