import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  chronicLowBackPain,
  condition,
  daysAgo,
  ERGOCALCIFEROL,
  icd10,
  LUMBAR_FUSION,
  medicationRequest,
  medicationStatement,
  monthsAgo,
  observation,
  procedure,
  rxnorm,
  serviceRequest,
  snomed,
  VITAMIN_D_ORDER,
  vitaminD,
  vitaminDNmol,
  weeksAgo,
} from '../../helpers/builders.js';
import { runService, suggestedCodes, suggestedResources } from '../../helpers/build-app.js';

const SERVICE = 'vitamin-d-back-pain';
const run = (resources: Resource[]) => runService(SERVICE, { resources });

interface Row {
  name: string;
  resources: Resource[];
  expected: { indicator: 'info' | 'warning'; topic: 'VD'; summary: RegExp; codes: string[] } | null;
}

const UNTESTED = {
  indicator: 'info' as const,
  topic: 'VD' as const,
  summary: /no vitamin D test in 12 months/,
  codes: ['ServiceRequest 62292-8'],
};
const DEFICIENT = {
  indicator: 'warning' as const,
  topic: 'VD' as const,
  summary: /vitamin D deficiency/,
  codes: ['MedicationRequest 1367410', 'ServiceRequest 62292-8'],
};
const INSUFFICIENT = {
  indicator: 'info' as const,
  topic: 'VD' as const,
  summary: /, below 30 ng\/mL: consider repletion/,
  codes: ['MedicationRequest 1367410', 'MedicationRequest 2418', 'ServiceRequest 62292-8'],
};

// Every row of the policy's rule VD table, both unit systems and the window edges.
const rows: Row[] = [
  { name: 'no 25(OH)D result at all', resources: [chronicLowBackPain()], expected: UNTESTED },
  {
    name: 'change 9: normal result just outside 12 months keeps the untested card quiet',
    resources: [chronicLowBackPain(), vitaminD(35, monthsAgo(12, 1))],
    expected: null,
  },
  {
    name: 'change 9: normal result just inside 24 months: quiet',
    resources: [chronicLowBackPain(), vitaminD(35, monthsAgo(24, -1))],
    expected: null,
  },
  {
    name: 'change 9: normal result just outside 24 months: untested',
    resources: [chronicLowBackPain(), vitaminD(35, monthsAgo(24, 1))],
    expected: UNTESTED,
  },
  {
    name: 'change 9: a low result after the normal one: untested',
    resources: [chronicLowBackPain(), vitaminD(35, monthsAgo(20)), vitaminD(15, monthsAgo(14))],
    expected: UNTESTED,
  },
  {
    name: 'last low result just outside 12 months: untested',
    resources: [chronicLowBackPain(), vitaminD(25, monthsAgo(12, 1))],
    expected: UNTESTED,
  },
  {
    name: 'normal result just inside 12 months',
    resources: [chronicLowBackPain(), vitaminD(35, monthsAgo(12, -1))],
    expected: null,
  },
  {
    name: 'deficient: 19.9 ng/mL',
    resources: [chronicLowBackPain(), vitaminD(19.9, daysAgo(10))],
    expected: DEFICIENT,
  },
  {
    name: 'insufficient at exactly 20 ng/mL',
    resources: [chronicLowBackPain(), vitaminD(20, daysAgo(10))],
    expected: INSUFFICIENT,
  },
  {
    name: 'insufficient: 29.9 ng/mL',
    resources: [chronicLowBackPain(), vitaminD(29.9, daysAgo(10))],
    expected: INSUFFICIENT,
  },
  {
    name: 'adequate at exactly 30 ng/mL',
    resources: [chronicLowBackPain(), vitaminD(30, daysAgo(10))],
    expected: null,
  },
  {
    name: 'deficient in nmol/L: 49 nmol/L (19.6 ng/mL)',
    resources: [chronicLowBackPain(), vitaminDNmol(49, daysAgo(10))],
    expected: DEFICIENT,
  },
  {
    name: 'insufficient in nmol/L: 50 nmol/L (20.03 ng/mL)',
    resources: [chronicLowBackPain(), vitaminDNmol(50, daysAgo(10))],
    expected: INSUFFICIENT,
  },
  {
    name: 'insufficient in nmol/L: 74 nmol/L (29.6 ng/mL)',
    resources: [chronicLowBackPain(), vitaminDNmol(74, daysAgo(10))],
    expected: INSUFFICIENT,
  },
  {
    name: 'adequate in nmol/L: 75 nmol/L (30.05 ng/mL)',
    resources: [chronicLowBackPain(), vitaminDNmol(75, daysAgo(10))],
    expected: null,
  },
  {
    name: 'case variant "ng/ml"',
    resources: [chronicLowBackPain(), observation('1989-3', 12, 'ng/ml', daysAgo(3))],
    expected: DEFICIENT,
  },
  {
    name: 'non-UCUM "mcg/L"',
    resources: [chronicLowBackPain(), observation('62292-8', 25, 'mcg/L', daysAgo(3))],
    expected: INSUFFICIENT,
  },
  {
    name: 'comparator "<5"',
    resources: [chronicLowBackPain(), vitaminD(5, daysAgo(3), { comparator: '<' })],
    expected: DEFICIENT,
  },
  {
    name: 'comparator "<25" is below target, not deficient',
    resources: [chronicLowBackPain(), vitaminD(25, daysAgo(3), { comparator: '<' })],
    expected: INSUFFICIENT,
  },
  {
    name: 'value as a string "<8 ng/mL"',
    resources: [
      chronicLowBackPain(),
      observation('62292-8', undefined, undefined, daysAgo(3), { valueString: '<8 ng/mL' }),
    ],
    expected: DEFICIENT,
  },
  {
    name: 'unknown unit: tested, never classified',
    resources: [chronicLowBackPain(), observation('62292-8', 5, 'mg/dL', daysAgo(3))],
    expected: null,
  },
  {
    name: 'the latest result decides (old low, new normal)',
    resources: [chronicLowBackPain(), vitaminD(12, daysAgo(200)), vitaminD(41, daysAgo(5))],
    expected: null,
  },
  {
    name: 'the latest result decides (old normal, new low)',
    resources: [chronicLowBackPain(), vitaminD(41, daysAgo(200)), vitaminD(12, daysAgo(5))],
    expected: DEFICIENT,
  },
  {
    name: 'entered-in-error result does not count',
    resources: [chronicLowBackPain(), vitaminD(40, daysAgo(5), { status: 'entered-in-error' })],
    expected: UNTESTED,
  },
  {
    name: 'preliminary result counts',
    resources: [chronicLowBackPain(), vitaminD(40, daysAgo(5), { status: 'preliminary' })],
    expected: null,
  },
  {
    name: 'result without a time is not recent',
    resources: [chronicLowBackPain(), vitaminD(40, '')],
    expected: UNTESTED,
  },
  {
    name: 'result dated only by issued counts',
    resources: [chronicLowBackPain(), vitaminD(40, daysAgo(5), { issuedOnly: true })],
    expected: null,
  },
  {
    name: 'calcitriol (1,25-dihydroxy) is not a 25(OH)D test',
    resources: [chronicLowBackPain(), observation('1649-3', 40, 'pg/mL', daysAgo(5))],
    expected: UNTESTED,
  },
  {
    name: 'D2 and D3 fractions at the same time are added up (12 + 15 = 27)',
    resources: [
      chronicLowBackPain(),
      observation('49054-0', 12, 'ng/mL', daysAgo(5)),
      observation('1989-3', 15, 'ng/mL', daysAgo(5)),
    ],
    expected: INSUFFICIENT,
  },
];

describe('rule VD: vitamin D in chronic back or neck pain', () => {
  it.each(rows)('$name', async ({ resources, expected }) => {
    const cards = await run(resources);
    if (!expected) {
      expect(cards).toEqual([]);
      return;
    }
    expect(cards).toHaveLength(1);
    const [card] = cards;
    expect(card?.indicator).toBe(expected.indicator);
    expect(card?.source.topic.code).toBe(expected.topic);
    expect(card?.summary).toMatch(expected.summary);
    expect(suggestedCodes(card!)).toEqual(expected.codes);
  });

  it('shows the value, unit, date and threshold in the detail, with evidence links', async () => {
    const [card] = await run([chronicLowBackPain(), vitaminDNmol(37, '2026-10-01')]);
    expect(card?.summary).toContain('deficiency, 37 nmol/L (14.8 ng/mL) on 2026-10-01');
    expect(card?.detail).toContain('25-hydroxyvitamin D: 37 nmol/L (14.8 ng/mL) on 2026-10-01');
    expect(card?.detail).toContain('Deficiency below 20 ng/mL');
    expect(card?.detail).toContain('https://doi.org/10.7812/TPP/18.241');
  });

  it('suggests a complete regimen tied to the patient and the pain condition, and a recheck after 12 weeks', async () => {
    const pain = chronicLowBackPain({ id: 'clbp-1' });
    const [card] = await run([pain, vitaminD(14, daysAgo(3))]);
    const [medication, recheck] = suggestedResources(card!);
    expect(medication).toMatchObject({
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'proposal',
      subject: { reference: 'Patient/pt-1' },
      reasonReference: [{ reference: 'Condition/clbp-1' }],
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1367410' }],
      },
      dosageInstruction: [
        {
          timing: {
            repeat: { frequency: 1, period: 1, periodUnit: 'wk', boundsDuration: { value: 12, code: 'wk' } },
          },
          doseAndRate: [{ doseQuantity: { value: 50000, code: '[iU]' } }],
        },
      ],
    });
    expect(recheck).toMatchObject({
      resourceType: 'ServiceRequest',
      intent: 'proposal',
      category: [{ coding: [{ code: '108252007' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '62292-8' }] },
      occurrenceDateTime: '2027-02-14',
    });
    expect(card?.selectionBehavior).toBe('any');
    expect(card?.overrideReasons?.map((reason) => reason.code)).toEqual(
      expect.arrayContaining([
        'tested-elsewhere',
        'patient-declined',
        'not-clinically-indicated',
        'already-treated',
      ]),
    );
  });

  describe('vitamin D therapy started after the latest low result', () => {
    it('stays quiet while the therapy is younger than 12 weeks', async () => {
      const cards = await run([
        chronicLowBackPain(),
        vitaminD(14, weeksAgo(6)),
        medicationRequest(ERGOCALCIFEROL, { authoredOn: weeksAgo(5) }),
      ]);
      expect(cards).toEqual([]);
    });

    it('asks for a recheck once the therapy is 12 weeks old with no result since', async () => {
      const cards = await run([
        chronicLowBackPain(),
        vitaminD(14, weeksAgo(14)),
        medicationStatement({ text: 'Vitamin D3 2000 IU' }, { start: weeksAgo(13) }),
      ]);
      expect(cards).toHaveLength(1);
      expect(cards[0]?.indicator).toBe('info');
      expect(cards[0]?.summary).toMatch(/recheck 25\(OH\)D/);
      expect(suggestedCodes(cards[0]!)).toEqual(['ServiceRequest 62292-8']);
    });

    it('keeps the card, without re-suggesting the drug, when therapy began before the low result', async () => {
      const cards = await run([
        chronicLowBackPain(),
        medicationRequest(ERGOCALCIFEROL, { authoredOn: monthsAgo(6) }),
        vitaminD(14, daysAgo(10)),
      ]);
      expect(cards).toHaveLength(1);
      expect(suggestedCodes(cards[0]!)).toEqual(['ServiceRequest 62292-8']);
    });
  });

  it('raises the untested card to a warning after recent spine surgery', async () => {
    const cards = await run([chronicLowBackPain(), procedure(LUMBAR_FUSION, { performed: monthsAgo(4) })]);
    expect(cards[0]?.indicator).toBe('warning');
    expect(cards[0]?.detail).toContain('Recent spine surgery: Lumbar spinal fusion');
  });

  it('does not raise it for spine surgery more than 12 months ago', async () => {
    const cards = await run([chronicLowBackPain(), procedure(LUMBAR_FUSION, { performed: monthsAgo(13) })]);
    expect(cards[0]?.indicator).toBe('info');
  });

  it('never suggests a 25(OH)D test that is already ordered', async () => {
    const cards = await run([chronicLowBackPain(), serviceRequest(VITAMIN_D_ORDER, { status: 'active' })]);
    expect(cards).toEqual([]);
  });

  describe('which patients count as having chronic back or neck pain', () => {
    const conditionRows: { name: string; resource: Resource; fires: boolean }[] = [
      {
        name: 'SNOMED chronic low back pain (chronic by code, no onset)',
        resource: condition(snomed('278860009')),
        fires: true,
      },
      {
        name: 'SNOMED chronic neck pain (US extension)',
        resource: condition(snomed('1121000119107')),
        fires: true,
      },
      {
        name: 'SNOMED low back pain since 13 weeks',
        resource: condition(snomed('279039007'), { onset: weeksAgo(13) }),
        fires: true,
      },
      {
        name: 'SNOMED low back pain since exactly 12 weeks',
        resource: condition(snomed('279039007'), { onset: weeksAgo(12) }),
        fires: true,
      },
      {
        name: 'SNOMED low back pain since 11 weeks',
        resource: condition(snomed('279039007'), { onset: weeksAgo(11) }),
        fires: false,
      },
      {
        name: 'low back pain with only a recordedDate 6 months ago',
        resource: condition(snomed('279039007'), { recorded: monthsAgo(6) }),
        fires: true,
      },
      { name: 'low back pain with no date at all', resource: condition(snomed('279039007')), fires: false },
      {
        name: 'acute low back pain, however old',
        resource: condition(snomed('278862001'), { onset: monthsAgo(6) }),
        fires: false,
      },
      {
        name: 'ICD-10-CM M54.50 since 6 months',
        resource: condition(icd10('M54.50'), { onset: monthsAgo(6) }),
        fires: true,
      },
      {
        name: 'legacy ICD-10-CM M54.5',
        resource: condition(icd10('M54.5'), { onset: monthsAgo(6) }),
        fires: true,
      },
      {
        name: 'ICD-10-CM FY2025 6-character M51.360',
        resource: condition(icd10('M51.360'), { onset: monthsAgo(6) }),
        fires: true,
      },
      { name: 'ICD-10-CM G89.29 other chronic pain', resource: condition(icd10('G89.29')), fires: true },
      {
        name: 'ICD-10-CM M62.830 muscle spasm of back',
        resource: condition(icd10('M62.830'), { onset: monthsAgo(4) }),
        fires: true,
      },
      {
        name: 'ICD-10-CM M54.0x panniculitis is excluded',
        resource: condition(icd10('M54.06'), { onset: monthsAgo(6) }),
        fires: false,
      },
      {
        name: 'SNOMED spinal stenosis since a year',
        resource: condition(snomed('18347007'), { onset: monthsAgo(12) }),
        fires: true,
      },
      {
        name: 'SNOMED scoliosis since years',
        resource: condition(snomed('298382003'), { onset: monthsAgo(60) }),
        fires: true,
      },
      {
        name: 'text only: "Chronic back pain"',
        resource: condition(null, { text: 'Chronic back pain' }),
        fires: true,
      },
      {
        name: 'resolved chronic back pain',
        resource: chronicLowBackPain({ clinicalStatus: 'resolved' }),
        fires: false,
      },
      {
        name: 'refuted chronic back pain',
        resource: chronicLowBackPain({ verificationStatus: 'refuted' }),
        fires: false,
      },
      {
        name: 'entered-in-error chronic back pain',
        resource: chronicLowBackPain({ verificationStatus: 'entered-in-error' }),
        fires: false,
      },
      {
        name: 'chronic back pain with no clinicalStatus',
        resource: chronicLowBackPain({ clinicalStatus: null }),
        fires: true,
      },
      {
        name: 'recurrence of chronic back pain',
        resource: chronicLowBackPain({ clinicalStatus: 'recurrence' }),
        fires: true,
      },
      {
        name: 'unrelated condition (hypertension)',
        resource: condition(snomed('38341003'), { onset: monthsAgo(24) }),
        fires: false,
      },
    ];
    it.each(conditionRows)('$name', async ({ resource, fires }) => {
      const cards = await run([resource]);
      expect(cards.length).toBe(fires ? 1 : 0);
    });
  });

  it('stays quiet for a deceased patient', async () => {
    const cards = await run([
      { resourceType: 'Patient', id: 'pt-1', deceasedBoolean: true },
      chronicLowBackPain(),
    ]);
    expect(cards).toEqual([]);
  });
});

describe('dates on the card are the dates the record writes', () => {
  it('an evening draw in New York is shown on its own day, not the next day in UTC', async () => {
    const cards = await run([chronicLowBackPain(), vitaminD(15, '2026-11-12T20:30:00-05:00')]);
    expect(cards[0]?.summary).toContain('2026-11-12');
    expect(cards[0]?.detail).toContain('on 2026-11-12');
    expect(JSON.stringify(cards)).not.toContain('2026-11-13');
  });
});

describe('repletion added to a maintenance dose after the low result (the table\'s "therapy started after")', () => {
  const maintenance = () =>
    medicationStatement(rxnorm('2418', 'Cholecalciferol 1000 UNT Oral Tablet'), { start: monthsAgo(24) });

  it('no card while the added repletion is under 12 weeks old', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(6)),
      medicationRequest(ERGOCALCIFEROL, { authoredOn: weeksAgo(5) }),
    ]);
    expect(cards).toEqual([]);
  });

  it('an info recheck once it is 12 weeks old with no result since', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(16)),
      medicationRequest(ERGOCALCIFEROL, { authoredOn: weeksAgo(14) }),
    ]);
    expect(cards).toHaveLength(1);
    expect(cards[0]?.indicator).toBe('info');
    expect(cards[0]?.summary).toMatch(/14 weeks/);
    expect(suggestedCodes(cards[0]!)).toEqual(['ServiceRequest 62292-8']);
  });

  it.each([
    ['the same code, another display', rxnorm('2418', 'cholecalciferol 1000 UNT Oral Tablet')],
    ['the same ingredient, another name', { text: 'Vitamin D3 1000 IU daily' }],
    ['a calcium and D3 combination', { text: 'calcium carbonate 600 MG / vitamin D3 400 UNT Oral Tablet' }],
  ])('%s after the low result is not repletion: the low-despite card stays', async (_name, code) => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(6)),
      medicationRequest(code, { authoredOn: weeksAgo(2) }),
    ]);
    expect(cards[0]?.indicator).toBe('warning');
    expect(suggestedCodes(cards[0]!)).toContain('MedicationRequest 1367410');
  });

  it.each([
    'Vitamin D3 50000IU weekly',
    'Vitamin D3 50,000IU',
    'cholecalciferol 1250 MCG Oral Capsule',
    'Vitamin D2 50 000 units',
    'Vitamin D 50K IU weekly',
  ])('"%s" added after the low result is repletion: no card yet', async (text) => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(6)),
      medicationRequest({ text }, { authoredOn: weeksAgo(2) }),
    ]);
    expect(cards).toEqual([]);
  });

  it('a repletion-strength product already taken is not offered again as ergocalciferol', async () => {
    const cards = await run([
      chronicLowBackPain(),
      medicationStatement({ text: 'Vitamin D 50000 UNT Oral Capsule' }, { start: monthsAgo(6) }),
      vitaminD(14, weeksAgo(2)),
    ]);
    expect(suggestedCodes(cards[0]!)).not.toContain('MedicationRequest 1367410');
  });

  it.each([
    'Vitamin D3 1000 IU daily',
    'cholecalciferol 0.025 MG Oral Tablet',
    'calcium carbonate 1250 MG / cholecalciferol 0.005 MG Chewable Tablet',
  ])('a maintenance "Vitamin D 1000 IU daily" renewed as "%s" keeps change 3\'s card', async (text) => {
    const cards = await run([
      chronicLowBackPain(),
      medicationStatement({ text: 'Vitamin D 1000 IU daily' }, { start: monthsAgo(24) }),
      vitaminD(14, weeksAgo(6)),
      medicationRequest({ text }, { authoredOn: weeksAgo(2) }),
    ]);
    expect(cards[0]?.indicator).toBe('warning');
    expect(cards[0]?.detail).toContain('already takes');
    expect(suggestedCodes(cards[0]!)).toContain('MedicationRequest 1367410');
  });

  it('a second repletion course after a low result counts from its own start', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      medicationStatement(ERGOCALCIFEROL, { start: monthsAgo(13), end: monthsAgo(10), status: 'completed' }),
      vitaminD(14, weeksAgo(6)),
      medicationRequest(ERGOCALCIFEROL, { authoredOn: weeksAgo(5) }),
    ]);
    expect(cards).toEqual([]);
  });

  it('a completed repletion course begun after the low result, with no result since: the recheck card', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(20)),
      medicationRequest(
        { text: 'Ergocalciferol 50,000 IU weekly x 12 weeks' },
        { status: 'completed', authoredOn: weeksAgo(19) },
      ),
    ]);
    expect(cards[0]?.indicator).toBe('info');
    expect(suggestedCodes(cards[0]!)).toEqual(['ServiceRequest 62292-8']);
  });

  it('a new repletion course within 90 days of the last, after a new low result, answers it', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      medicationRequest(ERGOCALCIFEROL, { status: 'completed', authoredOn: weeksAgo(11) }),
      vitaminD(16, weeksAgo(2)),
      medicationRequest(ERGOCALCIFEROL, { authoredOn: weeksAgo(1) }),
    ]);
    expect(cards).toEqual([]);
  });

  it.each(['stopped', 'draft', 'unknown'] as const)(
    'a repletion order that is %s answered nothing: the deficiency card stays',
    async (status) => {
      const cards = await run([
        chronicLowBackPain(),
        maintenance(),
        vitaminD(14, weeksAgo(8)),
        medicationRequest(ERGOCALCIFEROL, { status, authoredOn: weeksAgo(6) }),
      ]);
      expect(cards[0]?.indicator).toBe('warning');
    },
  );

  it('D3 1,250 mcg weekly is repletion strength', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(6)),
      medicationRequest({ text: 'Vitamin D3 1,250 mcg weekly' }, { authoredOn: weeksAgo(2) }),
    ]);
    expect(cards).toEqual([]);
  });

  it('cholecalciferol 50,000 IU weekly added to a maintenance D3 is repletion', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(16)),
      medicationRequest({ text: 'Cholecalciferol 50,000 IU capsule weekly' }, { authoredOn: weeksAgo(14) }),
    ]);
    expect(cards[0]?.indicator).toBe('info');
    expect(cards[0]?.detail).toMatch(/stepped up on \d{4}-\d\d-\d\d, no result since/);
  });

  it('a renewal of the same maintenance product is not repletion: the low-despite card stays (change 3)', async () => {
    const cards = await run([
      chronicLowBackPain(),
      maintenance(),
      vitaminD(14, weeksAgo(6)),
      medicationRequest(rxnorm('2418', 'Cholecalciferol 1000 UNT Oral Tablet'), { authoredOn: weeksAgo(2) }),
    ]);
    expect(cards).toHaveLength(1);
    expect(cards[0]?.indicator).toBe('warning');
    expect(cards[0]?.detail).toContain('already takes Cholecalciferol 1000 UNT Oral Tablet');
    expect(suggestedCodes(cards[0]!)).toContain('MedicationRequest 1367410');
  });
});
