import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoPatients } from '../../src/tools/sandbox/demo-patients.js';
import { type FhirSandbox, startFhirSandbox } from '../../src/tools/sandbox/fhir-sandbox.js';
import { buildTestApp } from '../helpers/build-app.js';
import { freePort } from '../helpers/free-port.js';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'cli-token';

let sandbox: FhirSandbox;
let app: FastifyInstance;
let serviceUrl: string;

beforeAll(async () => {
  sandbox = await startFhirSandbox({ token: TOKEN });
  await sandbox.load(loadDemoPatients().flatMap((patient) => patient.resources));
  // The development issuer of docker/compose.yaml, so the CLI signs its calls as an EHR would.
  const issuers = JSON.parse(readFileSync(`${ROOT}docker/issuers.dev.json`, 'utf8')) as unknown[];
  // The JWT aud is the public URL, so the port must be known before the app is built.
  const port = await freePort();
  serviceUrl = `http://127.0.0.1:${port}`;
  app = await buildTestApp({
    env: { AUTH_ISSUERS: JSON.stringify(issuers), PUBLIC_BASE_URL: serviceUrl },
    now: new Date(),
  });
  await app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  await sandbox.close();
});

/** npm run hook -- …, as a process. */
function hook(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/tools/sandbox/hook-cli.ts', ...args], {
    cwd: ROOT,
    timeout: 30_000,
  });
}

describe('npm run hook', () => {
  it.each([
    [
      ['vitamin-d-back-pain', 'patient-view', '--patient', 'demo-vd-deficient'],
      /\[WARNING\] Chronic neck pain with vitamin D deficiency, 14 ng\/mL/,
    ],
    [
      [
        'b12-drug-risk',
        'order-sign',
        '--patient',
        'demo-b12-metformin-untested',
        '--order',
        'cds-hooks/examples/orders/folic-acid.json',
      ],
      /\[WARNING\] Folic acid ordered while B12 deficiency is not excluded/,
    ],
    [
      [
        'spine-preop-vitamin-d',
        'order-select',
        '--patient',
        'demo-vd-untested',
        '--order',
        'cds-hooks/examples/orders/lumbar-fusion.json',
        '--prefetch',
      ],
      /\[WARNING\] Lumbar spinal fusion planned and no vitamin D result in 90 days/,
    ],
    [['b12-drug-risk', 'patient-view', '--patient', 'demo-negative'], /\(no cards\)/],
    [
      ['b12-drug-risk', 'patient-view', '--patient', 'demo-b12-ppi-deficient'],
      /\[WARNING\] B12 deficiency, 150 pg\/mL/,
    ],
    [
      ['spine-preop-vitamin-d', 'patient-view', '--patient', 'demo-sp-low'],
      /\[WARNING\] Vitamin D 22 ng\/mL under 30 ng\/mL before Laminectomy/,
    ],
    [
      [
        'spine-preop-vitamin-d',
        'order-sign',
        '--patient',
        'demo-vd-untested',
        '--order',
        'cds-hooks/examples/orders/lumbar-fusion.json',
      ],
      /\[WARNING\] Lumbar spinal fusion planned/,
    ],
    [
      [
        'b12-drug-risk-order-select',
        'order-select',
        '--patient',
        'demo-b12-metformin-untested',
        '--order',
        'cds-hooks/examples/orders/omeprazole.json',
      ],
      /\[INFO\] Omeprazole 20 mg capsule ordered for a patient at B12 risk/,
    ],
  ])('%j prints the cards', async (args, expected) => {
    const { stdout } = await hook(
      ...args,
      '--service',
      serviceUrl,
      '--fhir',
      sandbox.baseUrl,
      '--token',
      TOKEN,
      '--sign-key',
      'docker/dev-client.private-jwk.json',
    );
    expect(stdout).toMatch(expected);
  });

  it('explains its usage on bad arguments', async () => {
    await expect(hook('vitamin-d-back-pain', 'patient-view')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--patient is required[\s\S]*Usage: npm run hook/),
    });
  });
});
