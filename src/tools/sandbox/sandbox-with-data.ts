import { loadDemoPatients } from './demo-patients.js';
import { startFhirSandbox } from './fhir-sandbox.js';
import { hasPublicData, loadPublicPatients } from './public-data.js';

/** The sandbox FHIR server with the demo patients, and the public patients when asked and present. */
export async function startSandboxWithData(options: {
  port: number;
  host: string;
  token?: string | undefined;
  publicData: boolean;
}) {
  const sandbox = await startFhirSandbox(options);
  const demo = loadDemoPatients();
  await sandbox.load(demo.flatMap((patient) => patient.resources));
  let publicCount = 0;
  if (options.publicData) {
    if (hasPublicData) {
      const patients = loadPublicPatients();
      await sandbox.load(patients.flatMap((patient) => patient.resources));
      publicCount = patients.length;
    } else {
      process.stdout.write('--public-data: ../shared/fhir-data is not there; skipped\n');
    }
  }
  return { sandbox, demo, publicCount };
}
