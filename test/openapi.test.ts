import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { OpenApiDocument } from '../src/api-docs/describe-api.js';
import { renderOpenApi } from '../src/openapi.js';
import { buildTestApp } from './helpers/build-app.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const committedYaml = await readFile(new URL('../openapi.yaml', import.meta.url), 'utf8');
const committed = parse(committedYaml) as OpenApiDocument;

type Operation = OpenApiDocument['paths'][string][string] & {
  responses: Record<
    string,
    { description: string; content?: Record<string, { examples?: Record<string, { value: unknown }> }> }
  >;
};
const operations = Object.entries(committed.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ path, method, operation: operation as Operation })),
);

describe('openapi.yaml', () => {
  it('matches the routes (run `npm run openapi:write` after changing them)', async () => {
    expect(committedYaml).toBe(await renderOpenApi());
  });

  it('describes every endpoint', () => {
    expect(Object.keys(committed.paths).sort()).toEqual([
      '/analytics/cards',
      '/cds-services',
      '/cds-services/{id}',
      '/cds-services/{id}/feedback',
      '/docs',
      '/healthz',
      '/metrics',
      '/openapi.json',
      '/readyz',
    ]);
    expect(Object.keys(committed.paths['/cds-services/{id}'] ?? {})).toEqual(['post']);
  });

  it('puts the bearer-JWT scheme on every CDS and analytics endpoint, each of which can answer 401', () => {
    expect(committed.components?.securitySchemes?.['cdsClientJwt']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    for (const { path, method, operation } of operations) {
      const protectedPath = path.startsWith('/cds-services') || path.startsWith('/analytics');
      expect(operation.security, `${method} ${path}`).toEqual(protectedPath ? [{ cdsClientJwt: [] }] : []);
      expect(Object.keys(operation.responses).includes('401'), `${method} ${path}`).toBe(protectedPath);
    }
  });

  it('gives every operation an id, and every response a description of its own', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(operations.length);
    for (const { path, method, operation } of operations) {
      expect(operation.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${method} ${path} ${status}`).not.toBe('Default Response');
      }
      expect(operation.responses['503'], `${method} ${path}`).toBeDefined();
    }
    const call = committed.paths['/cds-services/{id}']?.['post'] as Operation;
    expect(Object.keys(call.responses)).toEqual(
      expect.arrayContaining(['400', '401', '404', '412', '413', '415', '429', '503']),
    );
  });

  it('declares the x-request-id header on every response, and accepts it on every request', () => {
    for (const { path, method, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        expect((response as { headers?: Record<string, unknown> }).headers?.['x-request-id']).toEqual({
          $ref: '#/components/headers/RequestId',
        });
        expect(status, `${method} ${path}`).toMatch(/^\d{3}$/);
      }
      expect(operation.parameters, `${method} ${path}`).toContainEqual(
        expect.objectContaining({ name: 'x-request-id', in: 'header', required: false }),
      );
    }
  });

  it('has an example request and response for every service and hook', async () => {
    const call = committed.paths['/cds-services/{id}']?.['post'] as Operation & {
      requestBody: { content: Record<string, { examples: Record<string, { value: { hook: string } }> }> };
    };
    const requests = call.requestBody.content['application/json']?.examples ?? {};
    const responses = call.responses['200']?.content?.['application/json']?.examples ?? {};
    const services = JSON.parse(
      await readFile(new URL('../cds-hooks/services.json', import.meta.url), 'utf8'),
    ) as { services: { id: string; hooks: Record<string, string> }[] };
    const expected = services.services.flatMap((service) =>
      Object.keys(service.hooks).map((hook) => `${service.id}.${hook}`),
    );
    expect(Object.keys(requests).sort()).toEqual(expected.sort());
    expect(Object.keys(responses).sort()).toEqual(expected.sort());
    for (const name of expected) {
      expect(requests[name]?.value.hook).toBe(name.split('.')[1]);
      expect(responses[name]?.value).toHaveProperty('cards');
    }
  });

  it('passes `redocly lint` with the recommended rules with 0 errors', async () => {
    const { stdout } = await run(
      `${ROOT}node_modules/.bin/redocly`,
      ['lint', '--extends', 'recommended', '--format', 'json', 'openapi.yaml'],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    ).catch((error: unknown) => error as { stdout: string });
    const report = JSON.parse(stdout) as {
      totals: { errors: number };
      problems: { ruleId: string; message: string; severity: string }[];
    };
    expect(report.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    expect(report.totals.errors).toBe(0);
  }, 90_000);
});

describe('the documented error bodies are the real ones', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildTestApp({ env: { RATE_LIMIT_MAX: '1', BODY_LIMIT_BYTES: '64' } });
  });
  afterAll(async () => {
    await app.close();
  });

  const documented = (path: string, method: string, status: string): Record<string, unknown> => {
    const operation = committed.paths[path]?.[method] as Operation;
    const examples = operation.responses[status]?.content?.['application/json']?.examples ?? {};
    return Object.values(examples)[0]?.value as Record<string, unknown>;
  };

  it('415', async () => {
    const unsupported = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain/feedback',
      payload: '<feedback/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(unsupported.statusCode).toBe(415);
    expect({ ...unsupported.json(), requestId: 'any' }).toEqual({
      ...documented('/cds-services/{id}/feedback', 'post', '415'),
      requestId: 'any',
    });
  });

  it('413 and 429', async () => {
    const tooLarge = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      payload: { hook: 'patient-view', padding: 'x'.repeat(100) },
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(Object.keys(tooLarge.json()).sort()).toEqual(
      Object.keys(documented('/cds-services/{id}', 'post', '413')).sort(),
    );
    expect((await app.inject({ method: 'GET', url: '/cds-services' })).statusCode).toBe(200);
    const limited = await app.inject({ method: 'GET', url: '/cds-services' });
    expect(limited.statusCode).toBe(429);
    expect(Object.keys(limited.json()).sort()).toEqual(
      Object.keys(documented('/cds-services', 'get', '429')).sort(),
    );
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('401', async () => {
    const secured = await buildTestApp({
      env: { AUTH_ISSUERS: await readFile(`${ROOT}docker/issuers.dev.json`, 'utf8') },
    });
    try {
      const refused = await secured.inject({ method: 'GET', url: '/analytics/cards' });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer');
      expect({ ...refused.json(), requestId: 'any' }).toEqual({
        ...documented('/analytics/cards', 'get', '401'),
        requestId: 'any',
      });
    } finally {
      await secured.close();
    }
  });
});

describe('GET /openapi.json and /docs', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp({ env: { PUBLIC_BASE_URL: 'https://cds.example.org' } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('serve openapi.yaml as JSON, with the configured public URL as the server', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ ...committed, servers: [{ url: 'https://cds.example.org' }] });
  });

  it('serve a self-contained page naming every operation', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    const html = response.body;
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(html.match(/href="([^"]+)"/g)).toEqual(['href="openapi.json"']);
    for (const { operation } of operations) {
      expect(html).toContain(`id="${operation.operationId ?? ''}"`);
    }
    expect(html).toContain('b12-drug-risk on order-sign');
  });
});
