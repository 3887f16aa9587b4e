import type { Resource } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, CdsServiceDefinition } from '../../src/catalog/load-catalog.js';
import type { Decision } from '../../src/cds/decide.js';
import type { ParsedRequest } from '../../src/cds/parse-request.js';
import { recordCall } from '../../src/cds/record-call.js';
import { renderCards } from '../../src/cds/render-cards.js';
import type { Finding } from '../../src/domain/findings.js';
import {
  type CallerIdentity,
  type FeedbackService,
  openFeedbackService,
} from '../../src/feedback/feedback-service.js';
import { type ResolvedPrefetch, toPatientRecord } from '../../src/fhir/prefetch.js';
import {
  B12_ORDER,
  FOLIC_ACID,
  medicationRequest,
  NOW,
  patient,
  serviceRequest,
} from '../helpers/builders.js';
import { defaultCatalog, testConfig } from '../helpers/build-app.js';
import { createLogLeakCheck } from '../helpers/log-leak-check.js';

const DAY = 86_400_000;
const PATIENT = 'pt-record-4711';
const HOOK_INSTANCE = '0b5e3f1c-8a7d-4e2b-9f6c-3d1a2b4c5e6f';
const BINDINGS = { service: 'b12-drug-risk-order-sign', hook: 'order-sign', hookInstance: HOOK_INSTANCE };
const CALLER: CallerIdentity = { issuer: 'https://ehr.example.org', tenant: 'north' };
const theirPatient = patient(PATIENT, {
  name: [{ family: 'Recordsworth', given: ['Agnes'] }],
  birthDate: '1958-03-14',
  identifier: [{ system: 'urn:mrn', value: 'MRN-880021' }],
});

let catalog: Catalog;
let service: CdsServiceDefinition;
const opened: FeedbackService[] = [];
beforeAll(async () => {
  catalog = await defaultCatalog();
  service = catalog.services.get('b12-drug-risk')!;
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((feedback) => feedback.close()));
});

async function freshFeedback(): Promise<FeedbackService> {
  const feedback = await openFeedbackService(testConfig(), pino({ level: 'silent' }));
  opened.push(feedback);
  return feedback;
}

const folicAcid = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1', patientId: PATIENT });
const folicAcidGuard: Finding = {
  ruleId: 'FOLIC-ACID',
  situation: 'folic-acid-guard',
  indicator: 'warning',
  vars: {},
  facts: ['Ordered: folic acid 1 MG Oral Tablet', 'No vitamin B12 result on record'],
  threshold: 'B12 below 180 pg/mL is deficient.',
  notes: [],
  suggestions: [{ kind: 'lab', lab: 'b12', recommended: true }],
  selectionBehavior: 'at-most-one',
};

/** The record with the B12 test the finding would suggest already ordered: its card is not shown. */
const b12AlreadyOrdered: Resource[] = [
  theirPatient,
  serviceRequest(B12_ORDER, { status: 'active', id: 'b12-1' }),
];

const parsed: ParsedRequest = {
  hook: 'order-sign',
  serviceId: 'b12-drug-risk-order-sign',
  patientId: PATIENT,
  draftOrders: [folicAcid],
  focusOrders: [folicAcid],
};

const gathered: ResolvedPrefetch = {
  resources: [theirPatient],
  fetchedKeys: ['conditions', 'b12'],
  droppedFromServer: 0,
  unavailable: new Map(),
  truncated: false,
};

function decision(
  feedback: FeedbackService,
  findings: Finding[],
  resources: Resource[] = [theirPatient],
): Decision {
  return {
    findings,
    record: toPatientRecord(PATIENT, resources),
    now: NOW,
    caller: CALLER,
    patientKey: feedback.patientKey(CALLER, PATIENT),
  };
}

/** Runs the step as the pipeline does, with the cards renderCards makes, and a logger checked for the patient. */
function record(feedback: FeedbackService, decided: Decision) {
  const cards = renderCards(catalog, service, HOOK_INSTANCE, parsed, decided);
  const logs = createLogLeakCheck();
  logs.collectSecrets('record', undefined, {
    context: { patientId: PATIENT },
    prefetch: { patient: theirPatient },
  });
  recordCall(feedback, HOOK_INSTANCE, parsed, gathered, decided, cards, logs.logger, BINDINGS);
  logs.assertNoLeak();
  return { cards, lines: logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const feedbackOn = (card: string, outcome: 'accepted' | 'overridden') => ({
  card,
  outcome,
  ...(outcome === 'overridden'
    ? {
        overrideReason: {
          reason: {
            system: 'https://vitamin-cds.example.org/fhir/CodeSystem/override-reason',
            code: 'tested-elsewhere',
          },
        },
      }
    : {}),
  outcomeTimestamp: NOW.toISOString(),
});

describe('recordCall: the cards shown go to the feedback store', () => {
  it('under the hook entry that made them, counted for analytics', async () => {
    const feedback = await freshFeedback();
    const { cards } = record(feedback, decision(feedback, [folicAcidGuard]));
    expect(cards).toHaveLength(1);
    const rows = await feedback.analytics(new Date(NOW.getTime() - DAY), new Date(NOW.getTime() + DAY));
    expect(rows).toEqual([
      expect.objectContaining({ serviceId: 'b12-drug-risk-order-sign', ruleId: 'FOLIC-ACID', shown: 1 }),
    ]);
  });

  it('for the caller and the patient key of the call: their feedback is known and snoozes that patient', async () => {
    const feedback = await freshFeedback();
    const decided = decision(feedback, [folicAcidGuard]);
    const [card] = record(feedback, decided).cards;
    const target = { id: 'b12-drug-risk-order-sign', cardServiceIds: new Set(['b12-drug-risk-order-sign']) };

    const stranger = await feedback.receive(
      target,
      [feedbackOn(card!.uuid, 'accepted')],
      { issuer: 'https://other.example.org', tenant: '' },
      NOW,
    );
    expect(stranger.unknownCards).toBe(1);
    const own = await feedback.receive(target, [feedbackOn(card!.uuid, 'overridden')], CALLER, NOW);
    expect(own.unknownCards).toBe(0);
    expect(await feedback.snoozedRules(decided.patientKey, NOW)).toEqual(new Set(['FOLIC-ACID']));
  });

  it('nothing is stored when no card is shown (a finding whose order is already active)', async () => {
    const feedback = await freshFeedback();
    const { cards } = record(feedback, decision(feedback, [folicAcidGuard], b12AlreadyOrdered));
    expect(cards).toEqual([]);
    expect(await feedback.analytics(new Date(NOW.getTime() - DAY), new Date(NOW.getTime() + DAY))).toEqual(
      [],
    );
  });
});

describe('recordCall: the log line', () => {
  it('keys, situations and counts only: no patient id, name, birth date or identifier', async () => {
    const feedback = await freshFeedback();
    const { lines } = record(feedback, decision(feedback, [folicAcidGuard]));
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({
      level: 30,
      msg: 'hook answered',
      ...BINDINGS,
      fetchedKeys: ['conditions', 'b12'],
      findings: ['folic-acid-guard'],
      cards: 1,
    });
    const text = JSON.stringify(line);
    for (const secret of [
      PATIENT,
      'Recordsworth',
      'Agnes',
      '1958-03-14',
      'MRN-880021',
      decision(feedback, []).patientKey,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('counts the cards shown, not the findings', async () => {
    const feedback = await freshFeedback();
    const { lines } = record(feedback, decision(feedback, [folicAcidGuard], b12AlreadyOrdered));
    expect(lines[0]).toMatchObject({ findings: ['folic-acid-guard'], cards: 0 });
  });
});
