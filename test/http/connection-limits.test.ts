import type { FastifyInstance, InjectOptions } from 'fastify';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-app.js';

let app: FastifyInstance;
let port: number;
const requestIds: string[] = [];

beforeAll(async () => {
  app = await buildTestApp({ env: { HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '600' } });
  app.addHook('onRequest', async (request) => {
    requestIds.push(request.id);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});
afterAll(async () => {
  await app.close();
});

/** Opens a socket, writes `head`, then trickles a byte every 50 ms; resolves with when the server closed it. */
function slowClient(head: string): Promise<{ closedAfterMs: number; response: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let response = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
    });
    const trickle = setInterval(() => {
      if (!socket.destroyed) {
        socket.write('x');
      }
    }, 50);
    socket.on('data', (chunk) => {
      response += chunk.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(trickle);
      resolve({ closedAfterMs: Date.now() - started, response });
    });
  });
}

describe('slow clients (issue 15, item 12)', () => {
  it('closes a client trickling its body within the request timeout', async () => {
    const { closedAfterMs, response } = await slowClient(
      'POST /cds-services/vitamin-d-back-pain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
    );
    expect(closedAfterMs).toBeLessThan(600 + 400);
    // Node answers 408 when it can; what matters is that the socket is gone and nothing was served.
    expect(response).not.toMatch(/^HTTP\/1\.1 2/);
  });

  it('closes a client trickling its headers within the headers timeout', async () => {
    const { closedAfterMs } = await slowClient('POST /cds-services/vitamin-d-back-pain HTTP/1.1\r\nX-Slow: ');
    expect(closedAfterMs).toBeLessThan(300 + 400);
  });

  it('still serves a client that sends its request in time', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(200);
  });
});

describe('X-Request-Id (issue 15, item 12)', () => {
  it.each([
    ['a UUID', '3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e', true],
    ['a trace id', 'Root.1-67891233-abcdef012345678912345678', true],
    ['text with spaces', 'hello world', false],
    ['quotes and braces (log injection)', 'abc"}{"level":60', false],
    ['an overlong value', 'a'.repeat(129), false],
    ['patient data', 'Patient/123?name=Smith', false],
  ])('keeps %s only when it looks like an id', async (_name, given, kept) => {
    requestIds.length = 0;
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': given } });
    expect(response.statusCode).toBe(200);
    const [id] = requestIds;
    if (kept) {
      expect(id).toBe(given);
    } else {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('x-request-id on every response', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const ISSUERS = JSON.stringify([
    { iss: 'https://ehr.example.org', jwksUrl: 'https://ehr.example.org/jwks' },
  ]);

  it.each([
    ['200', {}, { method: 'GET', url: '/healthz' }, 200],
    ['400', {}, { method: 'POST', url: '/cds-services/vitamin-d-back-pain', payload: {} }, 400],
    [
      '401',
      { AUTH_ISSUERS: ISSUERS },
      { method: 'POST', url: '/cds-services/vitamin-d-back-pain', payload: {} },
      401,
    ],
    ['404', {}, { method: 'GET', url: '/nothing-here' }, 404],
    [
      '413',
      { BODY_LIMIT_BYTES: '100' },
      { method: 'POST', url: '/cds-services/vitamin-d-back-pain', payload: { padding: 'x'.repeat(500) } },
      413,
    ],
    [
      '415',
      {},
      {
        method: 'POST',
        url: '/cds-services/vitamin-d-back-pain',
        payload: '<hook/>',
        headers: { 'content-type': 'application/xml' },
      },
      415,
    ],
  ] satisfies [string, Record<string, string>, InjectOptions, number][])(
    '%s: the id of the body and the logs',
    async (_status, env, request: InjectOptions, status) => {
      const app = await buildTestApp({ env });
      try {
        const response = await app.inject({
          ...request,
          headers: { 'x-request-id': 'trace-42', ...request.headers },
        });
        expect(response.statusCode).toBe(status);
        expect(response.headers['x-request-id']).toBe('trace-42');
        if (status >= 400) {
          expect(response.json<{ requestId: string }>().requestId).toBe('trace-42');
        }
      } finally {
        await app.close();
      }
    },
  );

  it('429 from the rate limit, and 503 from /readyz while shutting down', async () => {
    const app = await buildTestApp({
      env: { RATE_LIMIT_MAX: '1' },
      deps: { healthState: { closing: true } },
    });
    try {
      await app.inject({ method: 'GET', url: '/cds-services' });
      const limited = await app.inject({ method: 'GET', url: '/cds-services' });
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['x-request-id']).toMatch(UUID);
      expect(limited.json<{ requestId: string }>().requestId).toBe(limited.headers['x-request-id']);
      const closing = await app.inject({ method: 'GET', url: '/readyz' });
      expect(closing.statusCode).toBe(503);
      expect(closing.headers['x-request-id']).toMatch(UUID);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['quotes and braces (log and header injection)', 'abc"}{"level":60'],
    ['an overlong value', 'a'.repeat(10_000)],
    ['patient data', 'Patient/123?name=Smith'],
  ])('sends a new id, never the value given, for %s', async (_name, given) => {
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': given } });
    expect(response.headers['x-request-id']).toMatch(UUID);
  });

  it('also on the 503 that Fastify writes itself to a request arriving while the server closes', async () => {
    const closingApp = await buildTestApp();
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    closingApp.get('/test-slow', async () => {
      entered();
      await released;
      return { ok: true };
    });
    await closingApp.listen({ port: 0, host: '127.0.0.1' });
    const address = closingApp.server.address();
    const closingPort = typeof address === 'object' && address ? address.port : 0;
    let raw = '';
    const socket = connect(closingPort, '127.0.0.1');
    socket.on('data', (chunk) => {
      raw += chunk.toString();
    });
    const ended = new Promise<void>((resolve) =>
      socket.on('close', () => {
        resolve();
      }),
    );
    socket.write('GET /test-slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await inHandler;
    const closed = closingApp.close();
    // Fastify refuses new requests before it stops listening; the busy keep-alive connection stays open.
    while (closingApp.server.listening) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-1\r\n\r\n');
    // Time for the server to read the second request while the first is still being answered.
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    // The 503 says Connection: close, so the server ends the connection once both answers are out.
    await ended;
    await closed;
    const refused = raw.slice(raw.indexOf('HTTP/1.1 503'));
    expect(refused).toMatch(/^HTTP\/1\.1 503/);
    expect(refused.toLowerCase()).toContain('x-request-id: late-1\r\n');
  });
});
