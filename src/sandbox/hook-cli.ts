// `npm run hook -- <service> <hook> --patient <id> [--fhir <base>] [--order <file>]... [--prefetch]`:
// builds a hook request the way an EHR would, sends it, and prints the cards.
import type { Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import {
  buildHookRequest,
  callHook,
  createClientSigner,
  discoverService,
  type HookRequestOptions,
} from './ehr-client.js';
import { formatCards } from './print-cards.js';

const USAGE = `Usage: npm run hook -- <service-id> <patient-view|order-select|order-sign> --patient <id>
  <service-id>               as discovery lists it (b12-drug-risk-order-sign), or the service's own id (b12-drug-risk)
  [--fhir <FHIR base URL>]   default http://127.0.0.1:8103/fhir/R4 (npm run sandbox)
  [--service <URL>]          default http://127.0.0.1:3000
  [--order <file>]...        draft orders: a FHIR resource or Bundle (order hooks; all are selected in order-select)
  [--prefetch]               fill the service's prefetch templates from the FHIR server first
  [--token <access token>]   sent as fhirAuthorization.access_token (the service reads FHIR with it)
  [--sign-key <file>]        a private JWK: sign a CDS client JWT for each call (for a service with AUTH_ISSUERS)
  [--iss <issuer>]           the JWT's iss (default http://localhost/dev-ehr, as in docker/issuers.dev.json)
  [--json]                   print the raw response`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        patient: { type: 'string' },
        fhir: { type: 'string', default: 'http://127.0.0.1:8103/fhir/R4' },
        service: { type: 'string', default: 'http://127.0.0.1:3000' },
        order: { type: 'string', multiple: true, default: [] },
        prefetch: { type: 'boolean', default: false },
        token: { type: 'string' },
        'sign-key': { type: 'string' },
        iss: { type: 'string', default: 'http://localhost/dev-ehr' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();

const [serviceId, hook] = positionals;
if (!serviceId || !hook) {
  fail('Give a service id and a hook.');
}
if (hook !== 'patient-view' && hook !== 'order-select' && hook !== 'order-sign') {
  fail(`Unknown hook "${hook}".`);
}
if (!values.patient) {
  fail('--patient is required.');
}

function readOrders(file: string): Resource[] {
  let parsed: Resource;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Resource;
  } catch (error) {
    return fail(`Cannot read ${file}: ${(error as Error).message}`);
  }
  return parsed.resourceType === 'Bundle'
    ? (parsed.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []))
    : [parsed];
}

// An order file is written once and used for any patient: point its subject at this one.
const orders: Resource[] = values.order
  .flatMap(readOrders)
  .map((order) => Object.assign({}, order, { subject: { reference: `Patient/${values.patient ?? ''}` } }));
if (hook !== 'patient-view' && orders.length === 0) {
  fail(`${hook} needs at least one --order file.`);
}

const authorize = values['sign-key']
  ? await createClientSigner(JSON.parse(readFileSync(values['sign-key'], 'utf8')) as JWK, values.iss)
  : undefined;
try {
  const target: Pick<HookRequestOptions, 'serviceUrl' | 'serviceId' | 'hook' | 'authorize'> = {
    serviceUrl: values.service,
    serviceId,
    hook,
    ...(authorize ? { authorize } : {}),
  };
  // The URL discovery gives for this hook: `b12-drug-risk order-sign` calls b12-drug-risk-order-sign.
  const service = await discoverService(target);
  const request = await buildHookRequest({
    ...target,
    service,
    patientId: values.patient,
    fhirServer: values.fhir,
    accessToken: values.token,
    orders,
    withPrefetch: values.prefetch,
  });
  const { status, body } = await callHook(values.service, service.id, request, authorize);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else if (status === 200) {
    const { cards } = body as { cards: Parameters<typeof formatCards>[0] };
    process.stdout.write(
      `${service.id} · ${hook} · patient ${values.patient} · ${values.prefetch ? 'with prefetch' : 'no prefetch (the service reads FHIR)'}\n${formatCards(cards)}\n`,
    );
  } else {
    process.stdout.write(
      `${service.id} answered ${status}: ${(body as { message?: string }).message ?? JSON.stringify(body)}\n`,
    );
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
