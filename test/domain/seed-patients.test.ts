import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  b12,
  b12Pmol,
  chronicLowBackPain,
  condition,
  daysAgo,
  METFORMIN,
  medicationRequest,
  medicationStatement,
  monthsAgo,
  procedure,
  snomed,
  vitaminD,
  vitaminDNmol,
} from '../helpers/builders.js';
import { runService } from '../helpers/build-app.js';

/**
 * The patients of the seed papers, as the seeds describe them. The expected cards are read off the policy
 * by hand (in the comments), not from the service's output.
 */
async function allCards(resources: Resource[]) {
  const cards = [
    ...(await runService('vitamin-d-back-pain', { resources })),
    ...(await runService('spine-preop-vitamin-d', { resources })),
    ...(await runService('b12-drug-risk', { resources })),
  ];
  return cards.map((card) => `${card.source.topic.code} ${card.indicator}`);
}

describe('Cai 2019 case series (seed 000)', () => {
  it('case 1: 6 months of back pain with cramps, L5-S1 anterolisthesis, 25(OH)D 23 ng/mL -> VD info (insufficiency)', async () => {
    const cards = await allCards([
      condition(snomed('279039007', 'Low back pain'), { onset: monthsAgo(6) }),
      condition(snomed('274152003', 'Spondylolisthesis'), { onset: monthsAgo(6) }),
      vitaminD(23, daysAgo(7)),
    ]);
    expect(cards).toEqual(['VD info']);
  });

  it('case 2: 1 year of painful spasm in the legs (T9 paraplegia), 15 ng/mL -> VD warning (deficiency)', async () => {
    const cards = await allCards([
      condition(snomed('45352006', 'Spasm'), { onset: monthsAgo(12) }),
      vitaminD(15, daysAgo(7)),
    ]);
    expect(cards).toEqual(['VD warning']);
  });

  it('case 3: scoliosis with 8 months of mid and low back pain, 22 ng/mL -> VD info', async () => {
    const cards = await allCards([
      condition(snomed('298382003', 'Scoliosis deformity of spine'), { onset: monthsAgo(120) }),
      condition(snomed('279039007', 'Low back pain'), { onset: monthsAgo(8) }),
      vitaminD(22, daysAgo(7)),
    ]);
    expect(cards).toEqual(['VD info']);
  });

  it('case 3, a year later: recurrent pain and spasm with 14 ng/mL, no vitamin D taken since -> VD warning', async () => {
    const cards = await allCards([
      condition(snomed('298382003', 'Scoliosis deformity of spine'), { onset: monthsAgo(132) }),
      condition(snomed('203095000', 'Spasm of back muscles'), { onset: monthsAgo(3) }),
      vitaminD(32, monthsAgo(12)),
      vitaminD(14, daysAgo(3)),
    ]);
    expect(cards).toEqual(['VD warning']);
  });

  it('case 4: 1 year of neck pain radiating to the shoulders, 27 ng/mL -> VD info', async () => {
    const cards = await allCards([
      condition(snomed('81680005', 'Neck pain'), { onset: monthsAgo(12) }),
      vitaminD(27, daysAgo(7)),
    ]);
    expect(cards).toEqual(['VD info']);
  });

  it('after repletion (case 1 rechecked at 31 ng/mL) the service is quiet', async () => {
    const cards = await allCards([
      condition(snomed('279039007', 'Low back pain'), { onset: monthsAgo(9) }),
      vitaminD(23, monthsAgo(3)),
      medicationRequest(
        { text: 'Ergocalciferol 50,000 IU capsule' },
        { status: 'completed', authoredOn: monthsAgo(3) },
      ),
      vitaminD(31, daysAgo(2)),
    ]);
    expect(cards).toEqual([]);
  });
});

describe('Anang 2021 (seed 002)', () => {
  // 65-year-old woman: type 2 diabetes, lumbar stenosis with a prior L4-S1 decompression, 8 months of painful
  // calf and thigh spasms; B12 212 pmol/L (287 pg/mL) and 25(OH)D 19 nmol/L (7.6 ng/mL). No drug is named.
  const anang = (): Resource[] => [
    condition(snomed('44054006', 'Type 2 diabetes mellitus'), { onset: monthsAgo(120) }),
    condition(snomed('18347007', 'Spinal stenosis of lumbar region'), { onset: monthsAgo(60) }),
    condition(snomed('55300003', 'Cramp'), { onset: monthsAgo(8) }),
    procedure(snomed('10836008', 'Decompression of spinal cord'), { performed: monthsAgo(36) }),
    b12Pmol(212, daysAgo(14)),
    vitaminDNmol(19, daysAgo(14)),
  ];

  it('as written: VD warning (deficiency); no B12 card, since the policy needs a B12-lowering drug', async () => {
    expect(await allCards(anang())).toEqual(['VD warning']);
  });

  it('the vitamin D card shows the value in both units', async () => {
    const [card] = await runService('vitamin-d-back-pain', { resources: anang() });
    expect(card?.summary).toContain('19 nmol/L');
    expect(card?.detail).toContain('19 nmol/L (7.6 ng/mL)');
  });

  it('were she on metformin for years: B12 indeterminate (info, MMA) and the cramps note as well', async () => {
    const resources = [...anang(), medicationRequest(METFORMIN, { authoredOn: monthsAgo(60) })];
    expect(await allCards(resources)).toEqual(['VD warning', 'B12 info']);
    const [b12Card] = await runService('b12-drug-risk', { resources });
    expect(b12Card?.detail).toContain('212 pmol/L (287.3 pg/mL)');
    expect(b12Card?.detail).toMatch(/supplementation may be considered/);
  });
});

describe('seed 003: low back pain in a diabetic patient unresponsive to vitamin D and B12', () => {
  it('levels corrected and supplements taken: no vitamin D and no B12 card', async () => {
    const cards = await allCards([
      chronicLowBackPain({ onset: monthsAgo(18) }),
      condition(snomed('44054006', 'Type 2 diabetes mellitus'), { onset: monthsAgo(96) }),
      medicationRequest(METFORMIN, { authoredOn: monthsAgo(96) }),
      medicationStatement({ text: 'Cholecalciferol 2000 IU' }, { start: monthsAgo(9) }),
      medicationStatement({ text: 'Cyanocobalamin 1000 mcg oral tablet' }, { start: monthsAgo(9) }),
      vitaminD(16, monthsAgo(10)),
      b12(190, monthsAgo(10)),
      vitaminD(38, monthsAgo(2)),
      b12(520, monthsAgo(2)),
    ]);
    expect(cards).toEqual([]);
  });

  it('if B12 replacement stopped, metformin still means monitoring: a normal recent B12 keeps it quiet', async () => {
    const cards = await allCards([
      chronicLowBackPain({ onset: monthsAgo(18) }),
      medicationRequest(METFORMIN, { authoredOn: monthsAgo(96) }),
      vitaminD(38, monthsAgo(2)),
      b12(520, monthsAgo(2)),
    ]);
    expect(cards).toEqual([]);
  });
});
