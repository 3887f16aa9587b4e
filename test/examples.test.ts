import { readdir, readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HookName } from '../src/domain/hooks.js';
import { buildTestApp, defaultCatalog } from './helpers/build-app.js';
import { responseProblems } from './helpers/card-validator.js';

const EXAMPLES = new URL('../cds-hooks/examples/', import.meta.url);

/** What each example request is written to show (README, "Example calls"). */
const EXPECTED: Record<string, string[]> = {
  'vitamin-d-back-pain.patient-view.json': ['VD warning'],
  'spine-preop-vitamin-d.patient-view.json': ['SP warning'],
  'spine-preop-vitamin-d.order-select.json': ['SP warning'],
  'spine-preop-vitamin-d.order-sign.json': ['SP warning'],
  'b12-drug-risk.patient-view.json': ['B12 warning'],
  'b12-drug-risk.order-select.json': ['B12-NEW-DRUG info'],
  'b12-drug-risk.order-sign.json': ['FOLIC-ACID warning'],
};

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('cds-hooks/examples', () => {
  it('has one example per service and hook', async () => {
    expect((await readdir(EXAMPLES)).filter((file) => file.endsWith('.json')).sort()).toEqual(
      Object.keys(EXPECTED).sort(),
    );
  });

  it.each(Object.entries(EXPECTED))('%s gives %j', async (file, expected) => {
    const [service = '', hook = ''] = file.split('.');
    // Each example goes to the URL discovery lists for its service and hook.
    const serviceId = (await defaultCatalog()).services.get(service)?.hookIds[hook as HookName];
    expect(serviceId).toBeDefined();
    const payload = await readFile(new URL(file, EXAMPLES), 'utf8');
    const response = await app.inject({
      method: 'POST',
      url: `/cds-services/${serviceId ?? ''}`,
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ cards: { indicator: string; source: { topic: { code: string } } }[] }>();
    expect(responseProblems(body)).toEqual([]);
    expect(body.cards.map((card) => `${card.source.topic.code} ${card.indicator}`)).toEqual(expected);
  });
});
