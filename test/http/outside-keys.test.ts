import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deepMerge } from '../../src/catalog/load-catalog.js';
import { chronicLowBackPain, patient } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';

/** Keys that a plain object answers for itself: used as data, each once broke or could break a map. */
const HOSTILE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp({ now: new Date() });
});
afterAll(async () => {
  await app.close();
});

/** JSON text with `key` as an own property wherever the builder puts it (even "__proto__"). */
const json = (value: unknown) => JSON.stringify(value);
const post = (url: string, payload: string) =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });

async function hookBody(key: string, patientId = 'pt-keys') {
  const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
  return {
    hook: 'patient-view',
    hookInstance: key,
    context: { userId: `Practitioner/${key}`, patientId, encounterId: key, [key]: key },
    prefetch: {
      ...prefetchFor(templates, [patient(patientId), chronicLowBackPain({ patientId })], patientId),
      [key]: { resourceType: 'Bundle', [key]: key },
    },
    extension: { [key]: { [key]: key } },
  };
}

function expectNo5xx(response: Awaited<ReturnType<typeof post>>, what: string) {
  expect(response.statusCode, `${what}: ${response.body.slice(0, 200)}`).toBeLessThan(500);
}

describe('strings from outside used as keys (issue 15)', () => {
  it.each(HOSTILE_KEYS)(
    '%s as every outside-controlled key leaves analytics and /metrics working',
    async (key) => {
      const view = await post(
        '/cds-services/vitamin-d-back-pain',
        json(await hookBody(key, `pt-${key.length}`)),
      );
      expectNo5xx(view, 'service call');
      const [card] =
        view.statusCode === 200
          ? view.json<{ cards: { uuid: string; suggestions: { uuid: string }[] }[] }>().cards
          : (
              await post(
                '/cds-services/vitamin-d-back-pain',
                json(await hookBody('plain', `pt-${key.length}`)),
              )
            ).json<{ cards: { uuid: string; suggestions: { uuid: string }[] }[] }>().cards;
      expect(card).toBeDefined();
      const reason = { system: key, code: key, display: key };
      const at = new Date().toISOString();
      const asValues = {
        feedback: [
          {
            card: card!.uuid,
            outcome: 'overridden',
            overrideReason: { reason, userComment: key },
            outcomeTimestamp: at,
          },
          { card: key, outcome: 'overridden', overrideReason: { reason }, outcomeTimestamp: at },
          { card: key, outcome: 'accepted', acceptedSuggestions: [{ id: key }], outcomeTimestamp: at },
        ],
      };
      const sent = await post('/cds-services/vitamin-d-back-pain/feedback', json(asValues));
      expect(sent.json()).toEqual({ received: 3, stored: 3, unknownCards: 2 });
      const asKeys = {
        feedback: [{ ...asValues.feedback[2], [key]: key, overrideReason: { [key]: key } }],
        [key]: key,
      };
      // "__proto__" as a key is refused by the JSON parser itself (400); any other key is data.
      expectNo5xx(await post('/cds-services/vitamin-d-back-pain/feedback', json(asKeys)), 'feedback');
      for (const url of [`/cds-services/${key}`, `/cds-services/${key}/feedback`]) {
        const response = await post(url, json(asValues));
        expect(response.statusCode, url).toBe(404);
      }
      const analytics = await app.inject({
        method: 'GET',
        url: `/analytics/cards?from=2000-01-01&to=2100-01-01&${key}=${key}`,
      });
      expect(analytics.statusCode).toBe(200);
      const rows = analytics.json<{ rules: { ruleId: string; overrideReasons: Record<string, number> }[] }>()
        .rules;
      for (const row of rows) {
        expect(Object.keys(row.overrideReasons)).not.toContain(key);
        for (const count of Object.values(row.overrideReasons)) {
          expect(typeof count).toBe('number');
        }
      }
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).not.toContain(`reason="${key}"`);
    },
  );

  it('folds reason codes the cards do not offer into "other", in analytics and /metrics', async () => {
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(
      /cds_card_feedback_total\{service="vitamin-d-back-pain",rule="VD",outcome="overridden",reason="other"\} [1-9]/,
    );
    expect(metrics.body).toMatch(
      /cds_card_feedback_total\{service="vitamin-d-back-pain",rule="unknown",outcome="overridden",reason="other"\} [1-9]/,
    );
    const labels = new Set(
      [...metrics.body.matchAll(/^cds_card_feedback_total\{[^}]*reason="([^"]*)"/gm)].map(
        (match) => match[1],
      ),
    );
    const offered = (await defaultCatalog()).cards.overrideReasons.map((entry) => entry.code);
    expect([...labels].every((label) => ['', 'none', 'other', ...offered].includes(label ?? ''))).toBe(true);
  });

  it("site overrides with such keys cannot reach a merged object's prototype", () => {
    const merged = deepMerge(
      { situations: { a: { summary: 'x' } } },
      JSON.parse(
        '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "situations": {"__proto__": {"polluted": true}}}',
      ),
    ) as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(merged)).toBeNull();
    expect(merged['polluted']).toBeUndefined();
    expect(merged['situations']?.['polluted']).toBeUndefined();
    expect(Object.keys(merged).sort()).toEqual(['__proto__', 'constructor', 'situations']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
