// `npm run load-demo -- --fhir <base>`: puts the demo patients (dated to today) into any FHIR R4 server, e.g. the
// HAPI FHIR of docker/compose.yaml, as one transaction of PUTs so their ids stay stable.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadDemoPatients } from './demo-patients.js';

/** PUT every resource under its own id, in one transaction. */
export async function putResources(
  fhirBase: string,
  resources: readonly Resource[],
  token?: string,
): Promise<void> {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id ?? ''}` },
    })),
  };
  const response = await fetch(fhirBase.replace(/\/$/, ''), {
    method: 'POST',
    headers: {
      'content-type': 'application/fhir+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(bundle),
  });
  if (!response.ok) {
    throw new Error(
      `the FHIR server refused the transaction: ${response.status} ${(await response.text()).slice(0, 500)}`,
    );
  }
}

/** Why the server cannot be used yet, in words (fetch's own "fetch failed" hides the cause). */
function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * Waits until `GET {base}/metadata` answers 200. A FHIR server in a container (HAPI) takes a minute or more
 * to start, and a transaction sent before that fails.
 * @param fhirBase - the FHIR base URL
 * @param options - `timeoutMs` to give up after; `intervalMs` between tries; `progress` gets one line per try
 * @returns when the server answers; throws an Error saying what the last try got once the time is up
 */
export async function waitForFhirServer(
  fhirBase: string,
  options: {
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly token?: string | undefined;
    readonly progress: (line: string) => void;
  },
): Promise<void> {
  const started = Date.now();
  const url = `${fhirBase.replace(/\/$/, '')}/metadata`;
  for (;;) {
    let problem: string;
    try {
      const response = await fetch(url, {
        headers: {
          accept: 'application/fhir+json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        signal: AbortSignal.timeout(Math.max(options.intervalMs, 5000)),
      });
      await response.body?.cancel();
      if (response.ok) {
        return;
      }
      problem = `${response.status} ${response.statusText}`;
    } catch (error) {
      problem = describeFailure(error);
    }
    const waited = Math.round((Date.now() - started) / 1000);
    if (Date.now() - started + options.intervalMs > options.timeoutMs) {
      throw new Error(`the FHIR server at ${fhirBase} did not answer in ${waited} s (last try: ${problem})`);
    }
    options.progress(`Waiting for the FHIR server at ${fhirBase}: ${problem} (${waited} s so far)`);
    await sleep(options.intervalMs);
  }
}

if (process.argv[1]?.endsWith('load-demo.ts')) {
  const usage =
    'Usage: npm run load-demo -- --fhir <FHIR base URL> [--token <bearer token>] [--wait-seconds <n, default 300>]\n';
  const { values } = (() => {
    try {
      return parseArgs({
        options: {
          fhir: { type: 'string' },
          token: { type: 'string' },
          'wait-seconds': { type: 'string', default: '300' },
        },
      });
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n${usage}`);
      process.exit(2);
    }
  })();
  const waitSeconds = Number(values['wait-seconds']);
  if (!values.fhir || !Number.isFinite(waitSeconds) || waitSeconds < 0) {
    process.stderr.write(usage);
    process.exit(2);
  }
  const fhirBase = values.fhir;
  try {
    await waitForFhirServer(fhirBase, {
      timeoutMs: waitSeconds * 1000,
      intervalMs: 5000,
      token: values.token,
      progress: (line) => process.stdout.write(`${line}\n`),
    });
    const patients = loadDemoPatients();
    await putResources(
      fhirBase,
      patients.flatMap((patient) => patient.resources),
      values.token,
    );
    process.stdout.write(`Loaded ${patients.length} demo patients into ${fhirBase}\n`);
  } catch (error) {
    const message = (error as Error).message;
    const cause = describeFailure(error);
    process.stderr.write(`load-demo: ${message}${cause === message ? '' : ` (${cause})`}\n`);
    process.exit(1);
  }
}
