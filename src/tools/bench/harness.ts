import autocannon from 'autocannon';
import { type ChildProcess, spawn } from 'node:child_process';
import { KeyObject, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a server process and waits until `readyUrl` answers. */
export async function startChild(
  command: string[],
  env: Record<string, string>,
  url: string,
  readyPath = '/healthz',
): Promise<Child> {
  const child = spawn(process.execPath, command, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}${readyPath}`)).status < 500) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`${command.join(' ')} did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    process: child,
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          resolve();
        });
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Resident set size of a process now, and its peak so far, in MiB (Linux /proc). */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const read = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { rssMiB: read('VmRSS'), peakMiB: read('VmHWM') };
}

/** CPU time (user and system, all threads) a process has used so far, in seconds (Linux /proc, USER_HZ 100). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly total: number;
  /** The server's CPU per request during the run, when its pid was given: steadier than throughput here. */
  readonly cpuMicrosPerCall?: number;
}

/** One autocannon run: as fast as it goes, or at a fixed overall rate. */
export async function load(options: {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  seconds: number;
  connections?: number;
  rate?: number;
  serverPid?: number | undefined;
  /** A fresh bearer token for each request (the authenticated scenarios). */
  nextToken?: (() => string) | undefined;
}): Promise<LoadResult> {
  const cpuBefore = options.serverPid ? cpuSecondsOf(options.serverPid) : 0;
  const { nextToken } = options;
  const result = await autocannon({
    url: options.url,
    method: options.method,
    ...(options.body ? { body: options.body, headers: { 'content-type': 'application/json' } } : {}),
    ...(nextToken
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => ({
                ...request,
                headers: { ...request.headers, authorization: `Bearer ${nextToken()}` },
              }),
            },
          ],
        }
      : {}),
    duration: options.seconds,
    connections: options.connections ?? 16,
    ...(options.rate ? { overallRate: options.rate } : {}),
  });
  const failures = result.errors + result.timeouts + result.non2xx;
  if (failures > 0) {
    // Which kind, so a failing run can be told apart from a slow one.
    const statuses = Object.entries(result.statusCodeStats ?? {})
      .filter(([status]) => !status.startsWith('2'))
      .map(([status, { count }]) => `${status} x${count ?? 0}`)
      .join(', ');
    process.stderr.write(
      `${options.method} ${options.url}${options.rate ? ` at ${options.rate} req/s` : ''}: ${result.errors} socket errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx${statuses ? ` (${statuses})` : ''}\n`,
    );
  }
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
    ...(options.serverPid && result.requests.total > 0
      ? {
          cpuMicrosPerCall: (1e6 * (cpuSecondsOf(options.serverPid) - cpuBefore)) / result.requests.total,
        }
      : {}),
  };
}

/** An ES384 client as an EHR would be: its key, its issuer entry for AUTH_ISSUERS, and tokens signed ahead. */
export async function createBenchClient(): Promise<{
  issuers: string;
  publicJwks: JSONWebKeySet;
  iss: string;
  /** Signs `count` tokens for `audience`, each with its own jti, before a run (signing costs CPU). */
  sign: (audience: string, count: number) => Promise<() => string>;
  /** Signs a fresh token for `audience` on every call, synchronously (for runs too long to sign ahead). */
  signer: (audience: string) => () => string;
}> {
  const iss = 'https://ehr.bench.example.org';
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES384', use: 'sig' };
  const publicJwks = { keys: [publicJwk] };
  const header = Buffer.from(JSON.stringify({ alg: 'ES384', kid: 'bench-1', typ: 'JWT' })).toString(
    'base64url',
  );
  const privateKeyObject = KeyObject.from(privateKey);
  return {
    issuers: JSON.stringify([{ iss, jwks: publicJwks }]),
    publicJwks,
    iss,
    sign: async (audience, count) => {
      const now = Math.floor(Date.now() / 1000);
      const tokens: string[] = [];
      for (let index = 0; index < count; index++) {
        tokens.push(
          await new SignJWT({})
            .setProtectedHeader({ alg: 'ES384', kid: 'bench-1', typ: 'JWT' })
            .setIssuer(iss)
            .setAudience(audience)
            .setIssuedAt(now)
            .setExpirationTime(now + 3000)
            .setJti(randomUUID())
            .sign(privateKey),
        );
      }
      let next = 0;
      // Past the end it starts again: those calls are replays, refused, and show up as errors.
      return () => tokens[next++ % tokens.length] ?? '';
    },
    signer: (audience) => () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss, aud: audience, iat: now, exp: now + 300, jti: randomUUID() };
      const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      const signature = sign('sha384', Buffer.from(input), {
        key: privateKeyObject,
        dsaEncoding: 'ieee-p1363',
      });
      return `${input}.${signature.toString('base64url')}`;
    },
  };
}
