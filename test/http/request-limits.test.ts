import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chronicLowBackPain, draftOrders, LUMBAR_FUSION, serviceRequest } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
});

const post = (url: string, payload: unknown) =>
  app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });

const feedbackItem = (index: number) => ({
  card: `card-${index}`,
  outcome: 'overridden',
  overrideReason: { reason: { system: 'urn:x', code: 'not-clinically-indicated', display: 'No' } },
  outcomeTimestamp: '2026-11-22T10:05:31Z',
});

type Path = (string | number)[];
function leafAndNodePaths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') {
    return [prefix];
  }
  const children = Array.isArray(value)
    ? value.map((child, index) => [index, child] as const)
    : Object.entries(value as Record<string, unknown>);
  return [
    ...(prefix.length > 0 ? [prefix] : []),
    ...children.flatMap(([key, child]) => leafAndNodePaths(child, [...prefix, key])),
  ];
}
function withNullAt(value: unknown, path: Path): unknown {
  if (path.length === 0) {
    return null;
  }
  const [head, ...rest] = path as [string | number, ...Path];
  const copy = (Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = withNullAt(copy[head], rest);
  return copy;
}

describe('feedback items (issue 15, item 9)', () => {
  it('refuses more than 1000 items with a 413 that says the limit, never "too many SQL variables"', async () => {
    const response = await post('/cds-services/vitamin-d-back-pain/feedback', {
      feedback: Array.from({ length: 32_767 }, (_, index) => feedbackItem(index)),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json<{ message: string }>().message).toBe(
      'feedback has 32767 items; at most 1000 are accepted per request (send the rest in further requests)',
    );
  });

  it('stores 1000 items in one request', async () => {
    const response = await post('/cds-services/vitamin-d-back-pain/feedback', {
      feedback: Array.from({ length: 1000 }, (_, index) => feedbackItem(index)),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: 1000, stored: 1000, unknownCards: 1000 });
  });
});

describe('null in a client request (issue 15, item 9)', () => {
  it('answers 400 naming where, for a null anywhere in a service call but a prefetch key', async () => {
    const templates = (await defaultCatalog()).services.get('spine-preop-vitamin-d')!.prefetch;
    const body = {
      hook: 'order-select',
      hookInstance: 'f0e1d2c3-0000-4000-8000-000000000001',
      fhirServer: 'http://127.0.0.1:9/fhir',
      fhirAuthorization: {
        access_token: 'at-5c1e9d7f-only-for-this-test',
        token_type: 'Bearer',
        expires_in: 30,
        scope: 'user/*.read',
        subject: 'cds',
      },
      context: {
        userId: 'Practitioner/1',
        patientId: 'pt-1',
        selections: ['ServiceRequest/fusion-1'],
        draftOrders: draftOrders(serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'fusion-1' })),
      },
      prefetch: prefetchFor(templates, [chronicLowBackPain()]),
      extension: { 'org.example': { flag: true } },
    };
    const ok = await post('/cds-services/spine-preop-vitamin-d-order-select', body);
    expect(ok.statusCode).toBe(200);
    const paths = leafAndNodePaths(body).filter((path) => !(path[0] === 'prefetch' && path.length === 2));
    expect(paths.length).toBeGreaterThan(60);
    for (const path of paths) {
      const response = await post('/cds-services/spine-preop-vitamin-d-order-select', withNullAt(body, path));
      expect(response.statusCode, path.join('.')).toBe(400);
    }
    const deep = await post(
      '/cds-services/spine-preop-vitamin-d-order-select',
      withNullAt(body, ['context', 'draftOrders', 'entry', 0, 'resource', 'subject', 'reference']),
    );
    expect(deep.json<{ message: string }>().message).toBe(
      'body.context.draftOrders.entry[0].resource.subject.reference is null: leave out an element that has no value (only a prefetch key may be null)',
    );
    // A prefetch key may be null: the query ran and found nothing.
    const emptyKey = await post(
      '/cds-services/spine-preop-vitamin-d-order-select',
      withNullAt(body, ['prefetch', 'procedures']),
    );
    expect(emptyKey.statusCode).toBe(200);
  });

  it('answers 400 for a null anywhere in feedback', async () => {
    const body = {
      feedback: [
        {
          ...feedbackItem(1),
          overrideReason: { reason: { system: 'urn:x', code: 'x', display: 'X' }, userComment: 'c' },
          extension: { a: 1 },
        },
        {
          card: 'c-2',
          outcome: 'accepted',
          acceptedSuggestions: [{ id: 's-1' }],
          outcomeTimestamp: '2026-11-22T10:05:31Z',
        },
      ],
    };
    for (const path of leafAndNodePaths(body)) {
      const response = await post('/cds-services/vitamin-d-back-pain/feedback', withNullAt(body, path));
      expect(response.statusCode, path.join('.')).toBe(400);
    }
  });
});
