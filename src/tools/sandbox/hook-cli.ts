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
  HttpStatusError,
  UnreachableError,
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

const serviceUrl = values.service.replace(/\/+$/, '');

/** What went wrong, and what to do about it, for the people who run the CLI by hand. */
function explain(error: unknown): string {
  if (error instanceof UnreachableError) {
    return error.url.startsWith(serviceUrl)
      ? `${error.message}: is the CDS service running? Start it with \`npm start\` (or \`npm run demo\`), or point --service at it.`
      : `${error.message}: is the FHIR server running? Start \`npm run sandbox\`, or point --fhir at yours.`;
  }
  if (error instanceof HttpStatusError && (error.status === 401 || error.status === 403)) {
    return error.url.startsWith(serviceUrl)
      ? refused(error.status)
      : `${error.message}: give the FHIR server's access token with --token.`;
  }
  return (error as Error).message;
}

function refused(status: number): string {
  return `The CDS service at ${serviceUrl} refused the call (${status}): it checks CDS client JWTs. Sign the calls with --sign-key <private JWK> (and --iss, unless it is ${values.iss}), and give --service exactly as the service's PUBLIC_BASE_URL: the JWT's aud is built from it.`;
}

function readSigningKey(file: string): JWK {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    return fail(`Cannot read the signing key ${file}: ${(error as Error).message}`);
  }
}

try {
  const authorize = values['sign-key']
    ? await createClientSigner(readSigningKey(values['sign-key']), values.iss)
    : undefined;
  const target: Pick<HookRequestOptions, 'serviceUrl' | 'serviceId' | 'hook' | 'authorize'> = {
    serviceUrl,
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
  const { status, body } = await callHook(serviceUrl, service.id, request, authorize);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else if (status === 200) {
    const { cards } = body as { cards: Parameters<typeof formatCards>[0] };
    process.stdout.write(
      `${service.id} · ${hook} · patient ${values.patient} · ${values.prefetch ? 'with prefetch' : 'no prefetch (the service reads FHIR)'}\n${formatCards(cards)}\n`,
    );
  } else if (status === 401 || status === 403) {
    process.stderr.write(`${refused(status)}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(
      `${service.id} answered ${status}: ${(body as { message?: string }).message ?? JSON.stringify(body)}\n`,
    );
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`${explain(error)}\n`);
  process.exitCode = 1;
}
