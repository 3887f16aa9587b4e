import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../../helpers/build-app.js';
import { freePort } from '../../helpers/free-port.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `npm run hook -- …` as a process; resolves with its exit code and what it wrote. */
async function hook(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/tools/sandbox/hook-cli.ts', ...args],
      {
        cwd: ROOT,
        timeout: 30_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run hook says what went wrong', () => {
  let app: FastifyInstance;
  let serviceUrl: string;

  beforeAll(async () => {
    const issuers = readFileSync(`${ROOT}docker/issuers.dev.json`, 'utf8');
    const port = await freePort();
    serviceUrl = `http://127.0.0.1:${port}`;
    app = await buildTestApp({ env: { AUTH_ISSUERS: issuers, PUBLIC_BASE_URL: serviceUrl } });
    await app.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
  });

  it('when the service is down', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const result = await hook('vitamin-d-back-pain', 'patient-view', '--patient', 'p1', '--service', down);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot reach ${down}/cds-services (ECONNREFUSED)`);
    expect(result.stderr).toMatch(/is the CDS service running\? Start it with `npm start`/);
  });

  it('when the call is not signed, or signed for another URL', async () => {
    const unsigned = await hook(
      'vitamin-d-back-pain',
      'patient-view',
      '--patient',
      'p1',
      '--service',
      serviceUrl,
    );
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(
      /refused the call \(401\): it checks CDS client JWTs\. Sign the calls with --sign-key/,
    );
    // The key is trusted, but the JWT's aud names localhost while the service's public URL is 127.0.0.1.
    const otherAudience = await hook(
      'vitamin-d-back-pain',
      'patient-view',
      '--patient',
      'p1',
      '--service',
      serviceUrl.replace('127.0.0.1', 'localhost'),
      '--sign-key',
      'docker/dev-client.private-jwk.json',
    );
    expect(otherAudience.code).toBe(1);
    expect(otherAudience.stderr).toMatch(/give --service exactly as the service's PUBLIC_BASE_URL/);
  });
});
