// `npm run demo`: the sandbox FHIR server and the CDS service together, then every demo patient through every
// service, so a newcomer sees cards within a minute of cloning.
import { pino } from 'pino';
import { buildApp } from '../../app.js';
import { loadCatalog } from '../../catalog/load-catalog.js';
import { loadConfig } from '../../config.js';
import { buildHookRequest, callHook } from './ehr-client.js';
import { formatCards } from './print-cards.js';
import { startSandboxWithData } from './sandbox-with-data.js';

const DEMO_TOKEN = 'demo-access-token';
const config = loadConfig({ ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' });
const { sandbox, demo } = await startSandboxWithData({
  port: Number(process.env['SANDBOX_PORT'] ?? 8103),
  host: '127.0.0.1',
  token: DEMO_TOKEN,
  publicData: false,
});
const app = await buildApp({
  config,
  catalog: await loadCatalog(config.catalog),
  loggerInstance: pino({ level: config.log.level }),
});
await app.listen({ port: config.server.port, host: config.server.host });
const serviceUrl = config.server.publicBaseUrl;
process.stdout.write(`FHIR sandbox: ${sandbox.baseUrl}\nCDS service:  ${serviceUrl}/cds-services\n\n`);

for (const patient of demo) {
  process.stdout.write(`${patient.id}: ${patient.shows}\n`);
  for (const serviceId of ['vitamin-d-back-pain', 'spine-preop-vitamin-d', 'b12-drug-risk']) {
    const request = await buildHookRequest({
      serviceUrl,
      serviceId,
      hook: 'patient-view',
      patientId: patient.id,
      fhirServer: sandbox.baseUrl,
      accessToken: DEMO_TOKEN,
      withPrefetch: false,
    });
    const { status, body } = await callHook(serviceUrl, serviceId, request);
    const cards = status === 200 ? (body as { cards: Parameters<typeof formatCards>[0] }).cards : [];
    if (cards.length > 0 || status !== 200) {
      process.stdout.write(
        `  ${serviceId}${status === 200 ? '' : ` answered ${status}`}\n${formatCards(cards)}\n`,
      );
    }
  }
  process.stdout.write('\n');
}
process.stdout.write(
  `Try an order hook:\n  npm run hook -- b12-drug-risk-order-sign order-sign --patient demo-b12-metformin-untested --order cds-hooks/examples/orders/folic-acid.json --token ${DEMO_TOKEN}\n` +
    'Both servers keep running; Ctrl+C stops them.\n',
);
const stop = () => {
  void Promise.all([app.close(), sandbox.close()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
