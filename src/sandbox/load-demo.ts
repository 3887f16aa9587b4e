// `npm run load-demo -- --fhir <base>`: puts the demo patients (dated to today) into any FHIR R4 server, e.g. the
// HAPI FHIR of docker/compose.yaml, as one transaction of PUTs so their ids stay stable.
import type { Bundle, Resource } from '@medplum/fhirtypes';
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

if (process.argv[1]?.endsWith('load-demo.ts')) {
  const { values } = parseArgs({ options: { fhir: { type: 'string' }, token: { type: 'string' } } });
  if (!values.fhir) {
    process.stderr.write('Usage: npm run load-demo -- --fhir <FHIR base URL> [--token <bearer token>]\n');
    process.exit(2);
  }
  const patients = loadDemoPatients();
  await putResources(
    values.fhir,
    patients.flatMap((patient) => patient.resources),
    values.token,
  );
  process.stdout.write(`Loaded ${patients.length} demo patients into ${values.fhir}\n`);
}
