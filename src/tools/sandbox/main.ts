// `npm run sandbox`: a local FHIR R4 server with the demo patients (and, with --public-data, the public
// Synthea and SMART patients from ../shared/fhir-data).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startSandboxWithData } from './sandbox-with-data.js';

const SandboxEnv = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(8103),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_TOKEN: z.string().min(1).optional(),
});

const { values } = parseArgs({ options: { 'public-data': { type: 'boolean', default: false } } });
const env = SandboxEnv.parse(process.env);
const { sandbox, demo, publicCount } = await startSandboxWithData({
  port: env.SANDBOX_PORT,
  host: env.SANDBOX_HOST,
  token: env.SANDBOX_TOKEN,
  publicData: values['public-data'],
});
process.stdout.write(`FHIR R4 sandbox at ${sandbox.baseUrl} (metadata: ${sandbox.baseUrl}/metadata)\n`);
process.stdout.write(
  env.SANDBOX_TOKEN ? 'Requires: Authorization: Bearer $SANDBOX_TOKEN\n' : 'Open: no token required\n',
);
process.stdout.write(
  `Demo patients (${demo.length}):\n${demo.map((patient) => `  ${patient.id.padEnd(28)} ${patient.shows}`).join('\n')}\n`,
);
if (publicCount > 0) {
  process.stdout.write(`Public Synthea and SMART patients loaded: ${publicCount}\n`);
}
const stop = () => {
  void sandbox.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
