import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HookName } from '../../../src/domain/hooks.js';
import type { CdsCardOut } from '../../../src/domain/findings.js';
import {
  bornYearsAgo,
  b12,
  chronicLowBackPain,
  condition,
  daysAgo,
  draftOrders,
  ERGOCALCIFEROL,
  FOLIC_ACID,
  icd10,
  LUMBAR_FUSION,
  METFORMIN,
  medicationRequest,
  medicationStatement,
  monthsAgo,
  PATIENT_ID,
  patient,
  serviceRequest,
  snomed,
  vitaminD,
  weeksAgo,
} from '../../helpers/builders.js';
import {
  buildTestApp,
  defaultCatalog,
  prefetchFor,
  suggestedCodes,
  suggestedResources,
} from '../../helpers/build-app.js';

/**
 * Black-box acceptance scenarios written from ../shared/clinical/policy.md (version 2): each call goes over
 * HTTP (POST /cds-services/{id} with prefetch) as an EHR would make it, and checks what the card says.
 */
const VD = 'vitamin-d-back-pain';
const SP = 'spine-preop-vitamin-d';
const B12 = 'b12-drug-risk';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
});

interface Call {
  hook?: HookName;
  drafts?: Resource[];
}

async function call(service: string, resources: Resource[], options: Call = {}): Promise<CdsCardOut[]> {
  const definition = (await defaultCatalog()).services.get(service)!;
  const hook = options.hook ?? 'patient-view';
  const drafts = options.drafts ?? [];
  const context: Record<string, unknown> = { userId: 'Practitioner/dr-1', patientId: PATIENT_ID };
  if (hook !== 'patient-view') {
    context['draftOrders'] = draftOrders(...drafts);
  }
  const response = await app.inject({
    method: 'POST',
    url: `/cds-services/${definition.hookIds[hook] ?? service}`,
    payload: {
      hook,
      hookInstance: randomUUID(),
      context,
      prefetch: prefetchFor(definition.prefetch, resources),
    },
  });
  expect(response.statusCode).toBe(200);
  const cards = response.json<{ cards: CdsCardOut[] }>().cards;
  for (const card of cards) {
    expect(card.summary.length).toBeLessThan(140);
    expect(card.overrideReasons?.map((reason) => reason.code)).toEqual(
      expect.arrayContaining([
        'tested-elsewhere',
        'patient-declined',
        'not-clinically-indicated',
        'already-treated',
      ]),
    );
  }
  // At most one card per rule.
  const topics = cards.map((card) => card.source.topic.code);
  expect(new Set(topics).size).toBe(topics.length);
  return cards;
}

function resourceOf(card: CdsCardOut | undefined, code: string): Record<string, unknown> | undefined {
  return card
    ? suggestedResources(card).find((resource) =>
        JSON.stringify(resource['code'] ?? resource['medicationCodeableConcept']).includes(`"${code}"`),
      )
    : undefined;
}

const PAIN_ID = 'pain-1';
const pain = () => chronicLowBackPain({ id: PAIN_ID });
const metformin = (months = 24) => medicationRequest(METFORMIN, { authoredOn: monthsAgo(months) });
const fusion = (occurrence = '2026-12-22T08:00:00Z') =>
  serviceRequest(LUMBAR_FUSION, { occurrence, id: 'fusion', status: 'active' });

describe('rule VD', () => {
  it('seed 003: pain persisting after vitamin D and B12 were corrected gets no vitamin D card', async () => {
    const resources = [
      pain(),
      condition(snomed('44054006', 'Type 2 diabetes mellitus')),
      vitaminD(14, monthsAgo(9)),
      medicationStatement(ERGOCALCIFEROL, { start: monthsAgo(8), end: monthsAgo(5), status: 'completed' }),
      vitaminD(38, monthsAgo(4)),
      metformin(),
      b12(480, monthsAgo(4)),
    ];
    expect(await call(VD, resources)).toEqual([]);
    // The same patient before the recheck: the repletion course is over 12 weeks old with no result since.
    const [recheck] = await call(VD, resources.slice(0, 4));
    expect(recheck?.indicator).toBe('info');
    expect(suggestedCodes(recheck!)).toEqual(['ServiceRequest 62292-8']);
  });

  it('change 2: therapy starts at the current course, not the first record ever', async () => {
    const low = vitaminD(14, weeksAgo(20));
    const oldCourse = medicationStatement(ERGOCALCIFEROL, {
      start: monthsAgo(30),
      end: monthsAgo(27),
      status: 'completed',
    });
    const current = medicationStatement(ERGOCALCIFEROL, { start: weeksAgo(14) });
    const [card] = await call(VD, [pain(), low, oldCourse, current]);
    expect(card?.indicator).toBe('info');
    expect(card?.summary).toMatch(
      /^Vitamin D therapy started 14 weeks ago after a low level.*recheck 25\(OH\)D$/,
    );
    // Begun 11 weeks ago: too early for the recheck, and no repletion card either.
    const recent = medicationStatement(ERGOCALCIFEROL, { start: weeksAgo(11) });
    expect(await call(VD, [pain(), low, oldCourse, recent])).toEqual([]);
  });

  it('insufficient: the alternative is cholecalciferol 2,000 IU daily, bounded to 12 weeks (VD and SP)', async () => {
    for (const [service, extra] of [
      [VD, []],
      [SP, [fusion()]],
    ] as const) {
      const [card] = await call(service, [pain(), vitaminD(24, daysAgo(10)), ...extra]);
      expect(suggestedCodes(card!)).toEqual([
        'MedicationRequest 1367410',
        'MedicationRequest 2418',
        'ServiceRequest 62292-8',
      ]);
      expect(resourceOf(card, '2418')).toMatchObject({
        intent: 'proposal',
        subject: { reference: `Patient/${PATIENT_ID}` },
        reasonReference: [{ reference: `Condition/${PAIN_ID}` }],
        dosageInstruction: [
          {
            sequence: 1,
            timing: {
              repeat: { frequency: 1, period: 1, periodUnit: 'd', boundsDuration: { value: 12, code: 'wk' } },
            },
            doseAndRate: [{ doseQuantity: { value: 2000, code: '[iU]' } }],
          },
        ],
      });
      expect(card?.suggestions?.find((s) => s.label.startsWith('Cholecalciferol'))?.isRecommended).toBe(
        false,
      );
    }
  });
});

describe('rule SP boundaries', () => {
  it('a low result exactly 90 days old is inside the pre-op window; a day older is not', async () => {
    const [inside] = await call(SP, [fusion(), vitaminD(25, daysAgo(90))]);
    expect(inside?.summary).toMatch(
      /^Vitamin D 25 ng\/mL under 30 ng\/mL before Lumbar spinal fusion on 2026-12-22/,
    );
    const [outside] = await call(SP, [fusion(), vitaminD(25, daysAgo(91))]);
    expect(outside?.summary).toMatch(/no vitamin D result in 90 days/);
  });

  it('change 10: an operation dated exactly 7 days ago is still planned', async () => {
    const [card] = await call(SP, [fusion(daysAgo(7))]);
    expect(card?.indicator).toBe('warning');
    expect(card?.detail).not.toContain('days remain');
  });
});

describe('change 5: neurological involvement', () => {
  it.each([
    ['ataxia (SNOMED 20262006)', condition(snomed('20262006', 'Ataxia'))],
    ['gait disturbance (ICD-10-CM R26.89)', condition(icd10('R26.89'))],
    ['visual disturbance (SNOMED 63102001)', condition(snomed('63102001', 'Visual disturbance'))],
  ])(
    '%s: deficient B12 gets hydroxocobalamin IM, alternate days then every 2 months',
    async (_label, finding) => {
      const [card] = await call(B12, [metformin(), finding, b12(150, daysAgo(10))]);
      expect(card?.indicator).toBe('warning');
      expect(suggestedCodes(card!)).toEqual(['MedicationRequest 317106']);
      expect(resourceOf(card, '317106')).toMatchObject({
        dosageInstruction: [
          {
            sequence: 1,
            timing: { repeat: { period: 2, periodUnit: 'd', boundsDuration: { value: 3, code: 'wk' } } },
          },
          {
            sequence: 2,
            timing: { repeat: { period: 2, periodUnit: 'mo', boundsDuration: { value: 12, code: 'mo' } } },
          },
        ],
      });
    },
  );
});

describe('change 11: adults only, in every service', () => {
  it.each([
    [SP, 'patient-view', [fusion()]],
    [SP, 'order-sign', []],
    [B12, 'patient-view', [metformin()]],
    [B12, 'order-sign', [metformin()]],
  ] as const)('%s on %s: a card at 18 today, none a day before', async (service, hook, resources) => {
    const drafts =
      hook === 'order-sign'
        ? [
            service === SP
              ? serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'fusion-draft' })
              : medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-draft' }),
          ]
        : [];
    const at = (birthDate: string) =>
      call(service, [patient(PATIENT_ID, { birthDate }), ...resources], { hook, drafts });
    expect(await at(bornYearsAgo(18))).toHaveLength(1);
    expect(await at(bornYearsAgo(18, 1))).toEqual([]);
  });
});
