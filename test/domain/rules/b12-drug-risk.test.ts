import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  B12_ORDER,
  b12,
  b12Pmol,
  chronicLowBackPain,
  condition,
  CYANOCOBALAMIN_INJ,
  daysAgo,
  FAMOTIDINE,
  FOLIC_ACID,
  holoTc,
  icd10,
  METFORMIN,
  medicationRequest,
  medicationStatement,
  monthsAgo,
  observation,
  OMEPRAZOLE,
  rxnorm,
  serviceRequest,
  snomed,
} from '../../helpers/builders.js';
import { runService, suggestedCodes, suggestedResources } from '../../helpers/build-app.js';

const SERVICE = 'b12-drug-risk';
const run = (resources: Resource[]) => runService(SERVICE, { resources });
const longTermMetformin = () => medicationRequest(METFORMIN, { authoredOn: monthsAgo(24) });
const neuropathy = () => condition(snomed('302226006', 'Peripheral nerve disease'), { onset: monthsAgo(6) });
const legCramps = () => condition(snomed('449918009', 'Cramp in lower leg'), { onset: monthsAgo(8) });

type Expected = {
  situation: 'untested' | 'deficient' | 'indeterminate';
  indicator: 'info' | 'warning';
  codes: string[];
} | null;
const UNTESTED: Expected = { situation: 'untested', indicator: 'info', codes: ['ServiceRequest 2132-9'] };
const DEFICIENT: Expected = {
  situation: 'deficient',
  indicator: 'warning',
  codes: ['MedicationRequest 11248'],
};
const INDETERMINATE: Expected = {
  situation: 'indeterminate',
  indicator: 'info',
  codes: ['ServiceRequest 13964-2'],
};

const SUMMARY = {
  untested: /no vitamin B12 result in 36 months: check B12/,
  deficient: /^B12 deficiency, .*start B12 replacement/,
  indeterminate: /^Indeterminate B12, .*methylmalonic acid/,
};

// Every row of the policy's rule B12 table, both unit systems, active B12, and the exposure edges.
const rows: { name: string; resources: Resource[]; expected: Expected }[] = [
  { name: 'metformin 2 years, never tested', resources: [longTermMetformin()], expected: UNTESTED },
  {
    name: 'metformin 2 years, last B12 just outside 36 months',
    resources: [longTermMetformin(), b12(500, monthsAgo(36, 1))],
    expected: UNTESTED,
  },
  {
    name: 'metformin 2 years, normal B12 just inside 36 months',
    resources: [longTermMetformin(), b12(500, monthsAgo(36, -1))],
    expected: null,
  },
  {
    name: 'metformin started 11 months ago: not yet exposed',
    resources: [medicationRequest(METFORMIN, { authoredOn: monthsAgo(11) })],
    expected: null,
  },
  {
    name: 'metformin started 12 months ago: exposed',
    resources: [medicationRequest(METFORMIN, { authoredOn: monthsAgo(12) })],
    expected: UNTESTED,
  },
  {
    name: 'metformin with unknown start counts',
    resources: [medicationRequest(METFORMIN)],
    expected: UNTESTED,
  },
  {
    name: 'change 2: a new course after a long gap starts the exposure again',
    resources: [
      medicationRequest(METFORMIN, { status: 'stopped', authoredOn: monthsAgo(30) }),
      medicationRequest(METFORMIN, { authoredOn: monthsAgo(1) }),
    ],
    expected: null,
  },
  {
    name: 'change 2: records 90 days apart are one course (exposure from the first)',
    resources: [
      medicationStatement(METFORMIN, { status: 'completed', start: monthsAgo(30), end: daysAgo(200) }),
      medicationStatement(METFORMIN, { start: daysAgo(110) }),
    ],
    expected: UNTESTED,
  },
  {
    name: 'change 2: records 91 days apart are two courses (the current one is too short)',
    resources: [
      medicationStatement(METFORMIN, { status: 'completed', start: monthsAgo(30), end: daysAgo(200) }),
      medicationStatement(METFORMIN, { start: daysAgo(109) }),
    ],
    expected: null,
  },
  {
    name: 'change 2: overlapping records are one course',
    resources: [
      medicationStatement(METFORMIN, { status: 'completed', start: monthsAgo(30), end: monthsAgo(6) }),
      medicationStatement(METFORMIN, { start: monthsAgo(8) }),
    ],
    expected: UNTESTED,
  },
  {
    name: 'stopped metformin only: not current use',
    resources: [medicationRequest(METFORMIN, { status: 'stopped', authoredOn: monthsAgo(30) })],
    expected: null,
  },
  {
    name: 'PPI by RxNorm product code',
    resources: [medicationRequest(OMEPRAZOLE, { authoredOn: monthsAgo(20) })],
    expected: UNTESTED,
  },
  {
    name: 'PPI as text only ("Pantoprazole 40mg daily")',
    resources: [medicationRequest({ text: 'Pantoprazole 40mg daily' }, { authoredOn: monthsAgo(20) })],
    expected: UNTESTED,
  },
  {
    name: 'PPI with an unknown RxNorm code falls back to its name',
    resources: [
      medicationRequest(rxnorm('206206', 'lansoprazole 30 MG Delayed Release Oral Capsule'), {
        authoredOn: monthsAgo(20),
      }),
    ],
    expected: UNTESTED,
  },
  {
    name: 'combination product by name ("sitagliptin / metformin")',
    resources: [
      medicationRequest(
        { text: 'sitagliptin 50 MG / metformin hydrochloride 1000 MG Oral Tablet' },
        { authoredOn: monthsAgo(20) },
      ),
    ],
    expected: UNTESTED,
  },
  {
    name: 'H2 blocker as an active MedicationStatement',
    resources: [medicationStatement(FAMOTIDINE, { start: monthsAgo(18) })],
    expected: UNTESTED,
  },
  {
    name: 'completed statement that ended within 12 months counts',
    resources: [
      medicationStatement(FAMOTIDINE, { status: 'completed', start: monthsAgo(30), end: monthsAgo(2) }),
    ],
    expected: UNTESTED,
  },
  {
    name: 'completed statement that ended 2 years ago does not',
    resources: [
      medicationStatement(FAMOTIDINE, { status: 'completed', start: monthsAgo(60), end: monthsAgo(24) }),
    ],
    expected: null,
  },
  {
    name: 'entered-in-error metformin does not count',
    resources: [medicationRequest(METFORMIN, { status: 'entered-in-error', authoredOn: monthsAgo(30) })],
    expected: null,
  },
  { name: 'no B12-lowering drug', resources: [chronicLowBackPain(), b12(100, daysAgo(5))], expected: null },
  {
    name: 'on B12 replacement: NICE says do not retest',
    resources: [longTermMetformin(), medicationRequest(CYANOCOBALAMIN_INJ, { authoredOn: monthsAgo(6) })],
    expected: null,
  },
  {
    name: 'on B12 replacement even with a low result',
    resources: [
      longTermMetformin(),
      b12(150, daysAgo(60)),
      medicationStatement({ text: 'Vitamin B12 1000 mcg tablet' }, { start: daysAgo(30) }),
    ],
    expected: null,
  },
  {
    name: 'total B12 179 pg/mL',
    resources: [longTermMetformin(), b12(179, daysAgo(30))],
    expected: DEFICIENT,
  },
  {
    name: 'total B12 180 pg/mL',
    resources: [longTermMetformin(), b12(180, daysAgo(30))],
    expected: INDETERMINATE,
  },
  {
    name: 'total B12 350 pg/mL',
    resources: [longTermMetformin(), b12(350, daysAgo(30))],
    expected: INDETERMINATE,
  },
  { name: 'total B12 351 pg/mL', resources: [longTermMetformin(), b12(351, daysAgo(30))], expected: null },
  {
    name: 'total B12 179 ng/L (= pg/mL)',
    resources: [longTermMetformin(), observation('2132-9', 179, 'ng/L', daysAgo(30))],
    expected: DEFICIENT,
  },
  {
    name: 'total B12 132 pmol/L (178.9 pg/mL)',
    resources: [longTermMetformin(), b12Pmol(132, daysAgo(30))],
    expected: DEFICIENT,
  },
  {
    name: 'total B12 133 pmol/L (180.2 pg/mL)',
    resources: [longTermMetformin(), b12Pmol(133, daysAgo(30))],
    expected: INDETERMINATE,
  },
  {
    name: 'total B12 258 pmol/L (349.6 pg/mL)',
    resources: [longTermMetformin(), b12Pmol(258, daysAgo(30))],
    expected: INDETERMINATE,
  },
  {
    name: 'total B12 259 pmol/L (350.9 pg/mL)',
    resources: [longTermMetformin(), b12Pmol(259, daysAgo(30))],
    expected: null,
  },
  {
    name: 'active B12 24 pmol/L',
    resources: [longTermMetformin(), holoTc(24, daysAgo(30))],
    expected: DEFICIENT,
  },
  {
    name: 'active B12 25 pmol/L',
    resources: [longTermMetformin(), holoTc(25, daysAgo(30))],
    expected: INDETERMINATE,
  },
  {
    name: 'active B12 70 pmol/L',
    resources: [longTermMetformin(), holoTc(70, daysAgo(30))],
    expected: INDETERMINATE,
  },
  { name: 'active B12 71 pmol/L', resources: [longTermMetformin(), holoTc(71, daysAgo(30))], expected: null },
  {
    name: 'comparator "<100" pg/mL',
    resources: [longTermMetformin(), b12(100, daysAgo(30), { comparator: '<' })],
    expected: DEFICIENT,
  },
  {
    name: 'comparator ">2000" pg/mL',
    resources: [longTermMetformin(), b12(2000, daysAgo(30), { comparator: '>' })],
    expected: null,
  },
  {
    name: 'unknown unit: tested, not classified',
    resources: [longTermMetformin(), observation('2132-9', 100, 'mmol/L', daysAgo(30))],
    expected: null,
  },
  {
    name: 'whole-blood B12 counts as tested only',
    resources: [longTermMetformin(), observation('16695-9', 100, 'pg/mL', daysAgo(30))],
    expected: null,
  },
];

describe('rule B12: long-term metformin, PPI or H2 blocker (patient-view)', () => {
  it.each(rows)('$name', async ({ resources, expected }) => {
    const cards = await run(resources);
    if (!expected) {
      expect(cards).toEqual([]);
      return;
    }
    expect(cards).toHaveLength(1);
    const card = cards[0]!;
    expect(card.source.topic.code).toBe('B12');
    expect(card.indicator).toBe(expected.indicator);
    expect(card.summary).toMatch(SUMMARY[expected.situation]);
    expect(suggestedCodes(card)).toEqual(expected.codes);
  });

  const symptomRows: { name: string; symptom: Resource; label: string }[] = [
    { name: 'chronic back pain', symptom: chronicLowBackPain(), label: 'chronic pain' },
    { name: 'leg cramps', symptom: legCramps(), label: 'cramps or spasm' },
    { name: 'peripheral neuropathy', symptom: neuropathy(), label: 'neuropathy' },
    {
      name: 'diabetic neuropathy by ICD-10-CM',
      symptom: condition(icd10('E11.42'), { onset: monthsAgo(10) }),
      label: 'neuropathy',
    },
    {
      name: 'anaemia',
      symptom: condition(snomed('271737000', 'Anemia'), { onset: monthsAgo(3) }),
      label: 'anaemia',
    },
    {
      name: 'macrocytic anaemia by ICD-10-CM D53.9',
      symptom: condition(icd10('D53.9'), { onset: monthsAgo(3) }),
      label: 'anaemia',
    },
  ];
  it.each(symptomRows)('untested with $name is a warning', async ({ symptom, label }) => {
    const [card] = await run([longTermMetformin(), symptom]);
    expect(card?.indicator).toBe('warning');
    expect(card?.summary).toContain(`with ${label} and no vitamin B12 result`);
  });

  it('says when the duration of use is unknown', async () => {
    const [card] = await run([medicationRequest(METFORMIN)]);
    expect(card?.detail).toContain('start date not recorded');
    expect(card?.detail).toMatch(/duration of use is unknown/);
  });

  it('names every exposure', async () => {
    const [card] = await run([
      longTermMetformin(),
      medicationRequest(OMEPRAZOLE, { authoredOn: monthsAgo(40) }),
    ]);
    expect(card?.summary).toContain('Long-term metformin and PPI use');
  });

  it('deficiency with neurological symptoms suggests IM hydroxocobalamin only (change 5) and warns against folic acid first', async () => {
    const [card] = await run([longTermMetformin(), neuropathy(), b12(150, daysAgo(10))]);
    expect(suggestedCodes(card!)).toEqual(['MedicationRequest 317106']);
    expect(card?.suggestions?.[0]?.isRecommended).toBe(true);
    expect(card?.selectionBehavior).toBe('at-most-one');
    expect(card?.detail).toMatch(/Do not give folic acid first/);
  });

  it('indeterminate with cramps says supplementation may be considered (seed 002)', async () => {
    const [card] = await run([longTermMetformin(), legCramps(), b12(250, daysAgo(10))]);
    expect(card?.detail).toMatch(/supplementation may be considered/);
  });

  it('indeterminate without cramps does not', async () => {
    const [card] = await run([longTermMetformin(), b12(250, daysAgo(10))]);
    expect(card?.detail).not.toMatch(/supplementation may be considered/);
  });

  it('does not suggest a B12 test already ordered', async () => {
    const cards = await run([longTermMetformin(), serviceRequest(B12_ORDER, { status: 'active' })]);
    expect(cards).toEqual([]);
  });
});

describe('rule B12 in order hooks: a new B12-lowering drug', () => {
  const omeprazoleOrder = medicationRequest(OMEPRAZOLE, { status: 'draft', id: 'ome-1' });

  it.each(['order-select', 'order-sign'] as const)(
    '%s: PPI ordered for a patient on metformin for 2 years, untested',
    async (hook) => {
      const cards = await runService(SERVICE, {
        hook,
        resources: [longTermMetformin()],
        draftOrders: [omeprazoleOrder],
      });
      expect(cards).toHaveLength(1);
      expect(cards[0]?.indicator).toBe('info');
      expect(cards[0]?.source.topic.code).toBe('B12-NEW-DRUG');
      expect(cards[0]?.summary).toMatch(
        /^Omeprazole 20 MG Delayed Release Oral… ordered for a patient at B12 risk/,
      );
      expect(suggestedCodes(cards[0]!)).toEqual(['ServiceRequest 2132-9']);
    },
  );

  it('a symptom alone is enough', async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [neuropathy()],
      draftOrders: [omeprazoleOrder],
    });
    expect(cards.map((card) => card.source.topic.code)).toEqual(['B12-NEW-DRUG']);
  });

  it('no other exposure and no symptom: quiet', async () => {
    const cards = await runService(SERVICE, { hook: 'order-sign', draftOrders: [omeprazoleOrder] });
    expect(cards).toEqual([]);
  });

  it('renewing the same drug class is not "another" drug', async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [medicationRequest(OMEPRAZOLE, { authoredOn: monthsAgo(30) })],
      draftOrders: [omeprazoleOrder],
    });
    expect(cards).toEqual([]);
  });

  it('renewing a drug the patient already takes starts nothing, even with a symptom', async () => {
    const onOmeprazole = medicationRequest(OMEPRAZOLE, { authoredOn: monthsAgo(30) });
    const renewal = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [onOmeprazole, legCramps()],
      draftOrders: [omeprazoleOrder],
    });
    expect(renewal).toEqual([]);
    const metforminOrder = medicationRequest(METFORMIN, { status: 'draft', id: 'met-1' });
    const newDrug = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [onOmeprazole, legCramps()],
      draftOrders: [metforminOrder],
    });
    expect(newDrug.map((card) => card.source.topic.code)).toEqual(['B12-NEW-DRUG']);
  });

  it('a B12 result within 36 months: quiet', async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [longTermMetformin(), b12(400, monthsAgo(20))],
      draftOrders: [omeprazoleOrder],
    });
    expect(cards).toEqual([]);
  });

  it('order-select looks only at the selections', async () => {
    const other = serviceRequest(B12_ORDER, { status: 'draft', id: 'other' });
    const cards = await runService(SERVICE, {
      hook: 'order-select',
      resources: [longTermMetformin()],
      draftOrders: [omeprazoleOrder, other],
      selections: ['ServiceRequest/other'],
    });
    expect(cards).toEqual([]);
  });

  it('no card when the B12 test is already among the drafts', async () => {
    const labDraft = serviceRequest(B12_ORDER, { status: 'draft', id: 'b12-lab' });
    const cards = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [longTermMetformin()],
      draftOrders: [omeprazoleOrder, labDraft],
    });
    expect(cards).toEqual([]);
  });
});

describe('folic acid guard (order hooks)', () => {
  const folicOrder = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' });
  const guard = (resources: Resource[], drafts: Resource[] = [folicOrder]) =>
    runService(SERVICE, { hook: 'order-sign', resources, draftOrders: drafts });

  const B12_TEST = ['ServiceRequest 2132-9'];
  const ORAL_B12 = ['MedicationRequest 11248'];
  const MMA = ['ServiceRequest 13964-2'];
  const macrocyticAnaemia = () =>
    condition(icd10('D53.1', 'Other megaloblastic anemias'), { onset: monthsAgo(3) });
  const perniciousAnaemia = () => condition(snomed('84027009', 'Pernicious anemia'), { onset: monthsAgo(3) });
  // Change 8: deficient offers replacement, indeterminate MMA, untested a B12 test.
  const rows: { name: string; resources: Resource[]; drafts?: Resource[]; codes: string[] | null }[] = [
    { name: 'exposed patient, B12 untested', resources: [longTermMetformin()], codes: B12_TEST },
    { name: 'B12 deficient, not exposed', resources: [b12(150, daysAgo(30))], codes: ORAL_B12 },
    {
      name: 'B12 deficient with neuropathy: IM hydroxocobalamin first',
      resources: [b12(150, daysAgo(30)), neuropathy()],
      codes: ['MedicationRequest 317106'],
    },
    { name: 'B12 indeterminate, not exposed', resources: [b12Pmol(200, daysAgo(30))], codes: MMA },
    { name: 'B12 normal', resources: [longTermMetformin(), b12(500, daysAgo(30))], codes: null },
    { name: 'untested but not exposed', resources: [], codes: null },
    {
      name: 'change 8: macrocytic anaemia, not exposed, no B12 in 36 months',
      resources: [macrocyticAnaemia()],
      codes: B12_TEST,
    },
    {
      name: 'change 8: pernicious anaemia, not exposed, B12 just outside 36 months',
      resources: [perniciousAnaemia(), b12(400, monthsAgo(36, 1))],
      codes: B12_TEST,
    },
    {
      name: 'change 8: macrocytic anaemia with a normal B12 inside 36 months',
      resources: [macrocyticAnaemia(), b12(400, monthsAgo(36, -1))],
      codes: null,
    },
    {
      name: 'change 8: pernicious anaemia with a deficient B12: IM hydroxocobalamin',
      resources: [perniciousAnaemia(), b12(100, daysAgo(10))],
      codes: ['MedicationRequest 317106'],
    },
    {
      name: 'B12 replacement active',
      resources: [longTermMetformin(), medicationRequest(CYANOCOBALAMIN_INJ, { authoredOn: daysAgo(40) })],
      codes: null,
    },
    {
      name: 'B12 replacement ordered with it',
      resources: [longTermMetformin()],
      drafts: [folicOrder, medicationRequest(CYANOCOBALAMIN_INJ, { status: 'draft', id: 'b12-inj' })],
      codes: null,
    },
    {
      name: 'a folic acid + B12 combination product',
      resources: [longTermMetformin()],
      drafts: [
        medicationRequest(
          { text: 'Folic acid 2.5 MG / cyanocobalamin 1 MG / pyridoxine 25 MG tablet' },
          { status: 'draft', id: 'combo' },
        ),
      ],
      codes: null,
    },
    {
      name: 'folic acid ordered by name only',
      resources: [longTermMetformin()],
      drafts: [medicationRequest({ text: 'Folic acid 5mg tablets' }, { status: 'draft', id: 'f-text' })],
      codes: B12_TEST,
    },
  ];

  it.each(rows)('$name', async ({ resources, drafts, codes }) => {
    const cards = (await guard(resources, drafts)).filter((card) => card.source.topic.code === 'FOLIC-ACID');
    expect(cards.length).toBe(codes ? 1 : 0);
    if (codes) {
      expect(cards[0]?.indicator).toBe('warning');
      expect(cards[0]?.summary).toMatch(/folic acid may mask B12 deficiency/);
      expect(suggestedCodes(cards[0]!)).toEqual(codes);
    }
  });

  it('order-select: fires only when the folic acid order is selected', async () => {
    const other = serviceRequest(B12_ORDER, { status: 'draft', id: 'x-ray' });
    const cards = await runService(SERVICE, {
      hook: 'order-select',
      resources: [longTermMetformin()],
      draftOrders: [folicOrder, { ...other, code: { text: 'Chest X-ray' } }],
      selections: ['ServiceRequest/x-ray'],
    });
    expect(cards).toEqual([]);
  });
});

describe('a whole-blood B12 on a card', () => {
  it('says why it was not interpreted: whole blood, not an unknown unit', async () => {
    const cards = await run([
      condition(snomed('84027009', 'Pernicious anemia')),
      observation('16695-9', 100, 'pg/mL', daysAgo(30)),
    ]);
    expect(cards[0]?.detail).toContain('100 pg/mL on');
    expect(cards[0]?.detail).toContain('not interpreted: whole blood');
    expect(cards[0]?.detail).not.toContain('unit not recognised');
  });
});

describe('the B12 test is ordered for the symptom that raised the card', () => {
  const neuropathy = () =>
    condition(snomed('302226006', 'Peripheral neuropathy'), { id: 'neuro-1', onset: monthsAgo(6) });

  it('an untested B12 with neuropathy and chronic pain: reason is the neuropathy', async () => {
    const cards = await run([
      medicationStatement(METFORMIN, { start: monthsAgo(24) }),
      chronicLowBackPain({ id: 'pain-1' }),
      neuropathy(),
    ]);
    expect(cards[0]?.indicator).toBe('warning');
    expect(suggestedResources(cards[0]!)[0]).toMatchObject({
      reasonReference: [{ reference: 'Condition/neuro-1' }],
    });
  });

  it('a neuropathy sent without an id cannot be referenced: the next symptom is named', async () => {
    const { id: _none, ...anonymous } = neuropathy();
    const cards = await run([
      medicationStatement(METFORMIN, { start: monthsAgo(24) }),
      chronicLowBackPain({ id: 'pain-1' }),
      anonymous,
    ]);
    expect(suggestedResources(cards[0]!)[0]).toMatchObject({
      reasonReference: [{ reference: 'Condition/pain-1' }],
    });
  });

  it('with no symptom, no reason is claimed', async () => {
    const cards = await run([medicationStatement(METFORMIN, { start: monthsAgo(24) })]);
    expect(suggestedResources(cards[0]!)[0]).not.toHaveProperty('reasonReference');
  });
});
