import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

/** Starts src/server.ts as the README's start command would, and collects what it prints for a moment. */
function runServer(
  env: Record<string, string>,
  waitMs = 6000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
      env: { ...process.env, LOG_LEVEL: 'info', FEEDBACK_SQLITE_FILE: ':memory:', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('CDS Hooks discovery at')) {
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), waitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('secure by default', () => {
  it('refuses to start unauthenticated on a non-loopback address', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOST: '10.1.2.3' })).toThrow(/refusing to run unauthenticated/);
  });

  it('runs unauthenticated on loopback addresses only', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.53']) {
      expect(loadConfig({ HOST: host }).auth).toBeNull();
    }
  });

  it('starts on any address once a trusted issuer is configured', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      AUTH_ISSUERS: JSON.stringify([
        { iss: 'https://ehr.example.org', jwksUrl: 'https://ehr.example.org/jwks.json' },
      ]),
    });
    expect(config.auth?.issuers).toHaveLength(1);
    expect(config.auth?.algorithms).toEqual(['ES384', 'RS384']);
  });

  it.each([
    ['AUTH_ALGORITHMS', { AUTH_ALGORITHMS: 'ES384,HS256' }, /HMAC/],
    ['AUTH_ALGORITHMS', { AUTH_ALGORITHMS: 'none' }, /"none"/],
    ['AUTH_ISSUERS', { AUTH_ISSUERS: '[{"iss": "x"}]' }, /jwksUrl, jwksFile or jwks, or a jkuAllowlist/],
    ['AUTH_ISSUERS', { AUTH_ISSUERS: 'not json' }, /cannot read as JSON/],
    [
      'AUTH_ISSUERS',
      {
        AUTH_ISSUERS: JSON.stringify([{ iss: 'x', jwksUrl: 'https://a/j', jwks: { keys: [{ kty: 'EC' }] } }]),
      },
      /at most one/,
    ],
  ])('rejects a bad %s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('the server process exits 1 with the reason when bound to 0.0.0.0 without an issuer', async () => {
    const { code, output } = await runServer({ HOST: '0.0.0.0', PORT: '0' });
    expect(code).toBe(1);
    expect(output).toMatch(/refusing to run unauthenticated/);
  });

  it('the server process says loudly that authentication is off on loopback', async () => {
    const { output } = await runServer({ HOST: '127.0.0.1', PORT: '0' });
    expect(output).toMatch(/AUTHENTICATION IS OFF/);
    expect(output).toMatch(/CDS Hooks discovery at/);
  });
});
