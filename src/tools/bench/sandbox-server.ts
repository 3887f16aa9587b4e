// The sandbox FHIR server for the no-prefetch benchmarks, with the benchmark patient loaded.
import { startFhirSandbox } from '../sandbox/fhir-sandbox.js';
import { realisticPatient } from './realistic-patient.js';

const sandbox = await startFhirSandbox({
  port: Number(process.env['SANDBOX_PORT'] ?? 8199),
  token: 'bench-token',
});
await sandbox.load(realisticPatient());
process.stdout.write(`ready ${sandbox.baseUrl}\n`);
