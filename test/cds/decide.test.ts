import type { Resource } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifiedClient } from '../../src/auth/jwt-verifier.js';
import type { Catalog } from '../../src/catalog/load-catalog.js';
import { type CallMetrics, createCallMetrics } from '../../src/cds/call-metrics.js';
import { decide } from '../../src/cds/decide.js';
import type { ParsedRequest } from '../../src/cds/parse-request.js';
import type { HookName } from '../../src/domain/hooks.js';
import { PrefetchUnavailableError } from '../../src/errors.js';
import { type FeedbackService, openFeedbackService } from '../../src/feedback/feedback-service.js';
import type { ResolvedPrefetch } from '../../src/fhir/prefetch.js';
import {
  b12,
  chronicLowBackPain,
  daysAgo,
  daysAhead,
  FOLIC_ACID,
  medicationRequest,
  METFORMIN,
  monthsAgo,
  NOW,
  patient,
  PATIENT_ID,
  vitaminD,
} from '../helpers/builders.js';
import { defaultCatalog, testConfig } from '../helpers/build-app.js';
import { createLogLeakCheck } from '../helpers/log-leak-check.js';

const NOT_OFFERED = 'the server answered 404 (not-supported)';
const BINDINGS = { hookInstance: '9a0c6a8e-2f43-4b4e-8d0e-0b7f3c1d5e11' };

let catalog: Catalog;
let feedback: FeedbackService;
beforeAll(async () => {
  catalog = await defaultCatalog();
  feedback = await openFeedbackService(testConfig(), pino({ level: 'silent' }));
});
afterAll(async () => {
  await feedback.close();
});

const backPain: Resource[] = [patient(), chronicLowBackPain()];
/** Metformin for 30 months and no B12 result: rule B12 fires in patient-view. */
const onMetformin: Resource[] = [patient(), medicationRequest(METFORMIN, { authoredOn: monthsAgo(30) })];

function parsed(serviceId: string, hook: HookName, draftOrders: Resource[] = []): ParsedRequest {
  return { hook, serviceId, patientId: PATIENT_ID, draftOrders, focusOrders: draftOrders };
}

function gathered(
  resources: Resource[],
  gaps: { unavailable?: string[]; truncated?: boolean } = {},
): ResolvedPrefetch {
  return {
    resources,
    fetchedKeys: [],
    droppedFromServer: 0,
    unavailable: new Map((gaps.unavailable ?? []).map((key) => [key, NOT_OFFERED])),
    truncated: gaps.truncated ?? false,
  };
}

/** The feedback store, answering snoozedRules with `rules` and noting each question. */
function snoozing(rules: string[]) {
  const asked: { patientKey: string; at: Date }[] = [];
  const service: FeedbackService = {
    ...feedback,
    snoozedRules: async (patientKey, at) => {
      asked.push({ patientKey, at });
      return new Set(rules);
    },
  };
  return { service, asked };
}

/** Runs the step on one service with a logger that keeps its lines and checks them for the patient. */
async function run(
  serviceId: string,
  request: ParsedRequest,
  data: ResolvedPrefetch,
  options: { feedback?: FeedbackService; metrics?: CallMetrics; client?: VerifiedClient } = {},
) {
  const logs = createLogLeakCheck();
  logs.collectSecrets('decide', undefined, { context: { patientId: request.patientId } });
  const decision = decide(
    catalog.services.get(serviceId)!,
    request,
    data,
    {
      config: testConfig(),
      now: () => NOW,
      feedback: options.feedback ?? feedback,
      metrics: options.metrics,
    },
    options.client ?? null,
    logs.logger,
    BINDINGS,
  );
  const settled = await decision.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  logs.assertNoLeak();
  return {
    ...settled,
    lines: logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function skippedCount(metrics: CallMetrics, service: string, rule: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('cds_rules_skipped_total')!.get();
  return (
    metric.values.find((value) => value.labels['service'] === service && value.labels['rule'] === rule)
      ?.value ?? 0
  );
}

describe('decide: what the rules found, and for whom', () => {
  it('runs the service rules on the record and returns what they found, at deps.now()', async () => {
    const { value } = await run(
      'vitamin-d-back-pain',
      parsed('vitamin-d-back-pain', 'patient-view'),
      gathered(backPain),
    );
    expect(value?.findings.map((finding) => [finding.ruleId, finding.situation])).toEqual([
      ['VD', 'vd-untested'],
    ]);
    expect(value?.now).toEqual(NOW);
    expect(value?.record.conditions).toHaveLength(1);
    expect(value?.record.patientId).toBe(PATIENT_ID);
  });

  it('runs only the rules of the hook: B12 speaks in patient-view, not in order-sign', async () => {
    const view = await run('b12-drug-risk', parsed('b12-drug-risk', 'patient-view'), gathered(onMetformin));
    expect(view.value?.findings.map((finding) => finding.ruleId)).toEqual(['B12']);
    const sign = await run(
      'b12-drug-risk',
      parsed('b12-drug-risk-order-sign', 'order-sign'),
      gathered(onMetformin),
    );
    expect(sign.value?.findings).toEqual([]);
  });

  it('names the caller and keys the patient per caller, never by the patient id itself', async () => {
    const client: VerifiedClient = {
      iss: 'https://ehr.example.org',
      tenant: 'north',
      jti: 'j',
      fhirServers: [],
    };
    const request = parsed('vitamin-d-back-pain', 'patient-view');
    const signed = await run('vitamin-d-back-pain', request, gathered(backPain), { client });
    const open = await run('vitamin-d-back-pain', request, gathered(backPain));
    expect(signed.value?.caller).toEqual({ issuer: 'https://ehr.example.org', tenant: 'north' });
    expect(open.value?.caller).toEqual({ issuer: '', tenant: '' });
    expect(signed.value?.patientKey).toBe(feedback.patientKey(signed.value!.caller, PATIENT_ID));
    expect(signed.value?.patientKey).not.toContain(PATIENT_ID);
    expect(signed.value?.patientKey).not.toBe(open.value?.patientKey);
  });
});

describe('decide: data the FHIR server does not offer', () => {
  it('no rule can decide: PrefetchUnavailableError (412) naming each key and why, the rule counted', async () => {
    const metrics = createCallMetrics();
    const { error, lines } = await run(
      'b12-drug-risk',
      parsed('b12-drug-risk', 'patient-view'),
      gathered(onMetformin, { unavailable: ['medicationStatements', 'medicationRequests'] }),
      { metrics },
    );
    expect(error).toBeInstanceOf(PrefetchUnavailableError);
    expect(error).toMatchObject({
      statusCode: 412,
      message: `The FHIR server does not offer the data this service's rules need: "medicationStatements" (${NOT_OFFERED}), "medicationRequests" (${NOT_OFFERED})`,
    });
    expect(await skippedCount(metrics, 'b12-drug-risk', 'B12')).toBe(1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        ...BINDINGS,
        skippedRules: ['B12'],
        unavailable: { medicationStatements: NOT_OFFERED, medicationRequests: NOT_OFFERED },
      }),
    );
  });

  it('one of a group of keys is enough: without MedicationStatement, B12 decides from MedicationRequest', async () => {
    const metrics = createCallMetrics();
    const { value } = await run(
      'b12-drug-risk',
      parsed('b12-drug-risk', 'patient-view'),
      gathered(onMetformin, { unavailable: ['medicationStatements'] }),
      { metrics },
    );
    expect(value?.findings.map((finding) => finding.ruleId)).toEqual(['B12']);
    expect(value?.record.unavailableKeys).toEqual(new Set(['medicationStatements']));
    expect(await skippedCount(metrics, 'b12-drug-risk', 'B12')).toBe(0);
  });

  it('a rule that cannot decide is counted under the hook entry, once per call; the others still decide', async () => {
    const metrics = createCallMetrics();
    const folicAcid = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' });
    const request = parsed('b12-drug-risk-order-sign', 'order-sign', [folicAcid]);
    // A deficient B12 last month: the folic acid guard decides from it and the conditions.
    const data = gathered([patient(), b12(150, daysAgo(30))], {
      unavailable: ['medicationStatements', 'medicationRequests'],
    });
    const first = await run('b12-drug-risk', request, data, { metrics });
    await run('b12-drug-risk', request, data, { metrics });
    expect(first.value?.findings.map((finding) => finding.ruleId)).toEqual(['FOLIC-ACID']);
    expect(await skippedCount(metrics, 'b12-drug-risk-order-sign', 'B12-NEW-DRUG')).toBe(2);
    expect(await skippedCount(metrics, 'b12-drug-risk-order-sign', 'FOLIC-ACID')).toBe(0);
    expect(first.lines.map((line) => line['skippedRules'])).toContainEqual(['B12-NEW-DRUG']);
  });

  it('with every key available nothing is counted or logged', async () => {
    const metrics = createCallMetrics();
    const { value, lines } = await run(
      'b12-drug-risk',
      parsed('b12-drug-risk', 'patient-view'),
      gathered(onMetformin),
      {
        metrics,
      },
    );
    expect(value?.findings).toHaveLength(1);
    expect(await metrics.registry.getSingleMetric('cds_rules_skipped_total')!.get()).toMatchObject({
      values: [],
    });
    expect(lines).toEqual([]);
  });

  it('a search cut at FHIR_MAX_PAGES marks the record truncated and is logged with the limit', async () => {
    const { value, lines } = await run(
      'vitamin-d-back-pain',
      parsed('vitamin-d-back-pain', 'patient-view'),
      gathered(backPain, { truncated: true }),
    );
    expect(value?.record.truncated).toBe(true);
    expect(lines).toContainEqual(
      expect.objectContaining({
        maxPages: testConfig().fhir.maxPages,
        msg: 'a FHIR search had more pages than FHIR_MAX_PAGES',
      }),
    );
  });
});

describe('decide: results dated in the future', () => {
  it('are counted in the log and not used: a "normal" result next month does not silence the card', async () => {
    const { value, lines } = await run(
      'vitamin-d-back-pain',
      parsed('vitamin-d-back-pain', 'patient-view'),
      gathered([...backPain, vitaminD(40, daysAhead(10)), vitaminD(45, daysAhead(40))]),
    );
    expect(value?.findings.map((finding) => finding.situation)).toEqual(['vd-untested']);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        ...BINDINGS,
        futureDated: 2,
        msg: 'ignored results dated more than a day in the future',
      }),
    );
  });

  it('within a day of now (clock skew between systems) count as today: used, and not logged', async () => {
    const { value, lines } = await run(
      'vitamin-d-back-pain',
      parsed('vitamin-d-back-pain', 'patient-view'),
      gathered([...backPain, vitaminD(40, new Date(NOW.getTime() + 6 * 3_600_000).toISOString())]),
    );
    expect(value?.findings).toEqual([]);
    expect(lines).toEqual([]);
  });
});

describe('decide: rules a clinician snoozed for this patient', () => {
  it('are left out; the store is asked with the patient key and the time of the call', async () => {
    const { service, asked } = snoozing(['VD']);
    const { value } = await run(
      'vitamin-d-back-pain',
      parsed('vitamin-d-back-pain', 'patient-view'),
      gathered(backPain),
      {
        feedback: service,
      },
    );
    expect(value?.findings).toEqual([]);
    expect(asked).toEqual([{ patientKey: value?.patientKey, at: NOW }]);
  });

  it('another rule snoozed leaves this one speaking', async () => {
    const { service } = snoozing(['B12', 'SP']);
    const { value } = await run(
      'vitamin-d-back-pain',
      parsed('vitamin-d-back-pain', 'patient-view'),
      gathered(backPain),
      {
        feedback: service,
      },
    );
    expect(value?.findings.map((finding) => finding.ruleId)).toEqual(['VD']);
  });

  it('the store is not asked when no rule found anything', async () => {
    const { service, asked } = snoozing(['VD']);
    const { value } = await run(
      'vitamin-d-back-pain',
      parsed('vitamin-d-back-pain', 'patient-view'),
      gathered([patient()]),
      {
        feedback: service,
      },
    );
    expect(value?.findings).toEqual([]);
    expect(asked).toEqual([]);
  });
});
