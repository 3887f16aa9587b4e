import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedbackService, openFeedbackService } from '../../src/feedback/feedback-service.js';
import { chronicLowBackPain, NOW, patient } from '../helpers/builders.js';
import {
  buildTestApp,
  defaultCatalog,
  prefetchFor,
  testConfig,
  viewBackPainPatient,
} from '../helpers/build-app.js';

const DAY = 86_400_000;
let feedback: FeedbackService;
let today: FastifyInstance;
let in29Days: FastifyInstance;
let in31Days: FastifyInstance;

beforeAll(async () => {
  feedback = await openFeedbackService(testConfig(), pino({ level: 'silent' }));
  // Three views of one store at three times, as replicas sharing a database would see it.
  today = await buildTestApp({ now: NOW, deps: { feedback } });
  in29Days = await buildTestApp({ now: new Date(NOW.getTime() + 29 * DAY), deps: { feedback } });
  in31Days = await buildTestApp({ now: new Date(NOW.getTime() + 31 * DAY), deps: { feedback } });
});
afterAll(async () => {
  await Promise.all([today.close(), in29Days.close(), in31Days.close()]);
});

function sendFeedback(app: FastifyInstance, items: Record<string, unknown>[]) {
  return app.inject({
    method: 'POST',
    url: '/cds-services/vitamin-d-back-pain/feedback',
    payload: { feedback: items },
  });
}

const overridden = (card: string, code: string) => ({
  card,
  outcome: 'overridden',
  overrideReason: {
    reason: {
      system: 'https://vitamin-cds.example.org/fhir/CodeSystem/override-reason',
      code,
      display: code,
    },
  },
  outcomeTimestamp: NOW.toISOString(),
});

describe('snoozing an overridden card', () => {
  it('keeps the rule quiet for that patient only, in every replica, and speaks again after 30 days', async () => {
    const [card] = await viewBackPainPatient(today, 'snooze-a');
    expect(card).toBeDefined();
    const response = await sendFeedback(today, [overridden(card!.uuid, 'tested-elsewhere')]);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: 1, stored: 1, unknownCards: 0 });

    expect(await viewBackPainPatient(today, 'snooze-a')).toEqual([]);
    expect(await viewBackPainPatient(in29Days, 'snooze-a')).toEqual([]);
    expect(await viewBackPainPatient(today, 'snooze-b')).toHaveLength(1);
    expect(await viewBackPainPatient(in31Days, 'snooze-a')).toHaveLength(1);
  });

  it('does not snooze for "not clinically indicated", or on acceptance', async () => {
    const [first] = await viewBackPainPatient(today, 'snooze-c');
    await sendFeedback(today, [overridden(first!.uuid, 'not-clinically-indicated')]);
    expect(await viewBackPainPatient(today, 'snooze-c')).toHaveLength(1);
    const [second] = await viewBackPainPatient(today, 'snooze-d');
    await sendFeedback(today, [
      {
        card: second!.uuid,
        outcome: 'accepted',
        acceptedSuggestions: [{ id: second!.suggestions[0]!.uuid }],
        outcomeTimestamp: NOW.toISOString(),
      },
    ]);
    expect(await viewBackPainPatient(today, 'snooze-d')).toHaveLength(1);
  });

  it('stores a repeated feedback item once', async () => {
    const [card] = await viewBackPainPatient(today, 'snooze-e');
    const items = [overridden(card!.uuid, 'patient-declined')];
    expect((await sendFeedback(today, items)).json()).toEqual({ received: 1, stored: 1, unknownCards: 0 });
    expect((await sendFeedback(in29Days, items)).json()).toEqual({ received: 1, stored: 0, unknownCards: 0 });
  });
});

describe('analytics', () => {
  it('counts what was shown, accepted and overridden with each reason, and /metrics says the same', async () => {
    const response = await today.inject({
      method: 'GET',
      url: `/analytics/cards?from=${new Date(NOW.getTime() - DAY).toISOString()}&to=${new Date(NOW.getTime() + 40 * DAY).toISOString()}`,
    });
    expect(response.statusCode).toBe(200);
    const { rules } = response.json<{
      rules: {
        serviceId: string;
        ruleId: string;
        shown: number;
        accepted: number;
        overridden: number;
        overrideReasons: Record<string, number>;
      }[];
    }>();
    // Shown: a, b, a again after the period, c twice, d twice and e: 8 (a was quiet twice).
    expect(rules).toEqual([
      {
        serviceId: 'vitamin-d-back-pain',
        ruleId: 'VD',
        shown: 8,
        accepted: 1,
        overridden: 3,
        overrideReasons: { 'tested-elsewhere': 1, 'not-clinically-indicated': 1, 'patient-declined': 1 },
      },
    ]);
    const metrics = (await today.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('cds_cards_shown_total{service="vitamin-d-back-pain",rule="VD"} 8');
    expect(metrics).toContain(
      'cds_card_feedback_total{service="vitamin-d-back-pain",rule="VD",outcome="overridden",reason="tested-elsewhere"} 1',
    );
    expect(metrics).toContain(
      'cds_card_feedback_total{service="vitamin-d-back-pain",rule="VD",outcome="accepted",reason=""} 1',
    );
    expect(metrics).toContain('process_resident_memory_bytes');
  });

  it('takes plain dates, and refuses what is not a date', async () => {
    const byDate = await today.inject({
      method: 'GET',
      url: '/analytics/cards?from=2026-11-01&to=2027-01-15',
    });
    expect(byDate.statusCode).toBe(200);
    expect(byDate.json<{ from: string; rules: unknown[] }>().from).toBe('2026-11-01T00:00:00.000Z');
    expect((await today.inject({ method: 'GET', url: '/analytics/cards?from=last-week' })).statusCode).toBe(
      400,
    );
  });

  it('refuses a range that ends before it starts', async () => {
    const response = await today.inject({
      method: 'GET',
      url: `/analytics/cards?from=${NOW.toISOString()}&to=${new Date(NOW.getTime() - DAY).toISOString()}`,
    });
    expect(response.statusCode).toBe(400);
  });
});

describe('a client that reuses one hookInstance', () => {
  it('still gets a different card uuid for each patient, so feedback snoozes the right one', async () => {
    const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
    const view = async (patientId: string) =>
      (
        await today.inject({
          method: 'POST',
          url: '/cds-services/vitamin-d-back-pain',
          payload: {
            hook: 'patient-view',
            hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
            context: { userId: 'Practitioner/1', patientId },
            prefetch: prefetchFor(
              templates,
              [patient(patientId), chronicLowBackPain({ patientId })],
              patientId,
            ),
          },
        })
      ).json<{ cards: { uuid: string }[] }>().cards;
    const [first] = await view('reuse-x');
    const [second] = await view('reuse-y');
    expect(first!.uuid).not.toBe(second!.uuid);
    await sendFeedback(today, [overridden(second!.uuid, 'already-treated')]);
    expect(await view('reuse-y')).toEqual([]);
    expect(await view('reuse-x')).toHaveLength(1);
  });
});
