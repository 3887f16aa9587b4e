import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('JSON bodies with a forbidden key', () => {
  it('names the key however deep and wide the body is', async () => {
    const wide = Array.from({ length: 200_000 }, (_, index) => index);
    const deep = `${'['.repeat(1000)}{"__proto__": {}}${']'.repeat(1000)}`;
    const payload = `{"hook": "patient-view", "wide": ${JSON.stringify(wide)}, "deep": ${deep}}`;
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain/feedback',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toBe(
      'The body contains a forbidden key `__proto__`',
    );
  });

  it('says `constructor.prototype` when that is the key', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain/feedback',
      payload: '{"feedback": [], "constructor": {"prototype": {"isAdmin": true}}}',
      headers: { 'content-type': 'application/fhir+json; charset=utf-8' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ code: string; message: string }>()).toMatchObject({
      code: 'CDS_FORBIDDEN_KEY',
      message: 'The body contains a forbidden key `constructor.prototype`',
    });
  });
});
