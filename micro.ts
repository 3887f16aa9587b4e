import { pino } from 'pino';
import { loadCatalog } from './src/catalog/load-catalog.js';
import { loadConfig } from './src/config.js';
import { resolvePrefetch, toPatientRecord } from './src/fhir/prefetch.js';
import { evaluateRules } from './src/domain/evaluate.js';
import { callService } from './src/cds/call-service.js';
import { realisticPatient } from './scripts/bench/realistic-patient.js';
import { prefetchFor } from './test/helpers/build-app.js';
const config = loadConfig({ LOG_LEVEL: 'silent' });
const catalog = await loadCatalog(config.catalog);
const log = pino({ level: 'silent' });
for (const id of ['vitamin-d-back-pain', 'spine-preop-vitamin-d', 'b12-drug-risk']) {
  const service = catalog.services.get(id)!;
  const body = {
    hook: 'patient-view',
    hookInstance: 'x',
    context: { userId: 'Practitioner/1', patientId: 'bench-patient' },
    prefetch: prefetchFor(service.prefetch, realisticPatient(), 'bench-patient'),
  };
  const parsed = JSON.parse(JSON.stringify(body));
  const N = 3000;
  async function time(label: string, fn: () => unknown) {
    for (let i = 0; i < 300; i++) await fn();
    const t = performance.now();
    for (let i = 0; i < N; i++) await fn();
    console.log(id.padEnd(22), label.padEnd(18), (((performance.now() - t) / N) * 1000).toFixed(1), 'µs');
  }
  await time('resolvePrefetch', () =>
    resolvePrefetch({
      templates: service.prefetch,
      prefetch: parsed.prefetch,
      context: parsed.context,
      reader: undefined,
      deadlineMs: 2000,
      maxPages: 20,
    }),
  );
  const resolved = await resolvePrefetch({
    templates: service.prefetch,
    prefetch: parsed.prefetch,
    context: parsed.context,
    reader: undefined,
    deadlineMs: 2000,
    maxPages: 20,
  });
  const record = toPatientRecord('bench-patient', resolved.resources);
  await time('evaluateRules', () =>
    evaluateRules(
      service.rules,
      record,
      { hook: 'patient-view', now: new Date(), draftOrders: [], focusOrders: [] },
      config.clinical,
    ),
  );
  await time('callService', () =>
    callService(service, parsed, { catalog, config, now: () => new Date() }, log),
  );
}
