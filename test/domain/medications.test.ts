import { describe, expect, it } from 'vitest';
import type { DrugClass } from '../../src/domain/value-sets.js';
import { classifyConcept, classifyText } from '../../src/domain/medications.js';
import { METFORMIN } from '../helpers/builders.js';

describe('classifyConcept', () => {
  it('reads a code as RxNorm only under the RxNorm system', () => {
    expect(classifyConcept({ coding: [METFORMIN] }).has('metformin')).toBe(true);
    const elsewhere = { ...METFORMIN, system: 'urn:local:formulary', display: 'Formulary item 7' };
    expect(classifyConcept({ coding: [elsewhere] }).has('metformin')).toBe(false);
  });
});

/** What real records call B12 replacement, vitamin D therapy and folic acid, and what they do not. */
const IS: readonly (readonly [string, DrugClass])[] = [
  // Products of one ingredient, at any strength, however written.
  ['Vitamin B12 1000 mcg tablet', 'b12Replacement'],
  ['Vitamin B12 500 mcg tablet', 'b12Replacement'],
  ['cyanocobalamin 1 MG/ML Injectable Solution', 'b12Replacement'],
  ['Nascobal 500 MCG/ACTUAT Nasal Spray', 'b12Replacement'],
  ['B-12 shots monthly', 'b12Replacement'],
  ['Vit B-12 injection monthly', 'b12Replacement'],
  ['B 12 shot', 'b12Replacement'],
  ['vit B 12 1000 mcg', 'b12Replacement'],
  ['Ener-B 12', 'b12Replacement'],
  ['Folic acid 5 mg tablet', 'folicAcid'],
  ['Folic acid 1 mg (prenatal)', 'folicAcid'],
  ['Deplin 15 mg', 'folicAcid'],
  ['Vitamin B9 400 mcg', 'folicAcid'],
  ['D3 50000 IU weekly', 'vitaminD'],
  ['D 3 1000 IU', 'vitaminD'],
  ['Vitamin-D 50000 IU', 'vitaminD'],
  ['Calciferol 50,000 IU', 'vitaminD'],
  ['Nature Made D3 2000 IU softgel', 'vitaminD'],
  ['Bio-Tech D3-50 50,000 IU', 'vitaminD'],
  ['Decara 50,000 IU', 'vitaminD'],
  ['Ddrops 1000 IU', 'vitaminD'],
  ['D2 50,000 IU weekly; pt on insulin glargine', 'vitaminD'],
  // A unit, a sig, a plan or a note is not a second ingredient.
  ['Vitamin B12 500 mcg daily with food', 'b12Replacement'],
  ['Vitamin B12 500 mcg / daily', 'b12Replacement'],
  ['Vitamin B12 500 mcg, take 2 tabs (1000 mcg) daily', 'b12Replacement'],
  ['Cyanocobalamin 500 mcg and increase to 1000 mcg in 4 weeks', 'b12Replacement'],
  ['B12 500 mcg / SL daily', 'b12Replacement'],
  ['Vitamin B12 500 mcg with evening meal', 'b12Replacement'],
  ['Cyanocobalamin 500 mcg / 0.1 mL nasal spray weekly', 'b12Replacement'],
  ['Folic acid 1 mg tablet, take with food', 'folicAcid'],
  ['folic acid 1 MG / ML Injectable Solution', 'folicAcid'],
  ['Vitamin D 50000 IU / weekly / 12 weeks / then 2000 IU daily', 'vitaminD'],
  ['Vitamin D3 50,000 IU weekly (pt also on GLP-1 receptor agonist)', 'vitaminD'],
  ['Vitamin D3 2000 IU - hold warfarin (vitamin K antagonist)', 'vitaminD'],
  // Combinations: B12 from 1 mg, folic acid at any dose, vitamin D at any dose.
  ['folic acid 2.5 MG / vitamin B6 25 MG / vitamin B12 2 MG Oral Tablet', 'b12Replacement'],
  ['Vitamin B12 1,000 mcg + multivitamin', 'b12Replacement'],
  ['B complex with B12 1 mg', 'b12Replacement'],
  ['Folbic', 'b12Replacement'],
  ['Metanx capsule', 'b12Replacement'],
  ['ferrous fumarate 324 MG / folic acid 1 MG Oral Tablet', 'folicAcid'],
  ['folic acid 1 mg + vitamin C', 'folicAcid'],
  ['calcium carbonate 600 MG / vitamin D3 400 UNT Oral Tablet', 'vitaminD'],
  ['Calcium carbonate 1250 mg / D3 400 IU', 'vitaminD'],
  ['Calcium 600 mg with D3', 'vitaminD'],
  ['Caltrate 600+D3', 'vitaminD'],
  // Multivitamins at a treatment dose (renal vitamins).
  ['Multivitamin with vitamin B12 1000 mcg', 'b12Replacement'],
  [
    'ascorbic acid 100 MG / biotin 0.3 MG / folic acid 3 MG / niacinamide 20 MG / pyridoxine 10 MG / vitamin B12 1 MG Oral Tablet',
    'b12Replacement',
  ],
  [
    'ascorbic acid 100 MG / biotin 0.3 MG / folic acid 3 MG / niacinamide 20 MG / pyridoxine 10 MG / vitamin B12 1 MG Oral Tablet',
    'folicAcid',
  ],
  ['metformin / multivitamin pack', 'metformin'],
];

const IS_NOT: readonly (readonly [string, DrugClass])[] = [
  // Multivitamins.
  ...(['b12Replacement', 'vitaminD', 'folicAcid'] as const).flatMap((drug) =>
    [
      'Multivitamin with B12',
      'Multi-Vitamin tablet',
      'Prenatal vitamins with folic acid 1 mg',
      'Vitamin B complex with vitamin B12',
      'B-Complex with C and folic acid',
      'ascorbic acid 60 MG / biotin 0.03 MG / folic acid 0.4 MG / vitamin B12 0.006 MG / vitamin D3 400 UNT Oral Tablet',
    ].map((text) => [text, drug] as const),
  ),
  ['Multivitamin with vitamin B12 25 mcg', 'b12Replacement'],
  ['Citranatal (Prenatal) B12 12 mcg', 'b12Replacement'],
  // B12 under 1 mg in a combination is not replacement.
  ['Vitamin B12 500 mcg with folic acid 400 mcg', 'b12Replacement'],
  ['B12 0.115 mg / folic acid 0.8 mg / B6 10 mg', 'b12Replacement'],
  ['B12 500 mcg / folic acid 1 mg', 'b12Replacement'],
  ['Vitamin B12 500 mcg / folate', 'b12Replacement'],
  ['Methylcobalamin 500 mcg / L-methylfolate', 'b12Replacement'],
  ['Vitamin B12 500 mcg, folic acid 400 mcg', 'b12Replacement'],
  ['B12 500 mcg and folic acid 400 mcg', 'b12Replacement'],
  // Other drugs whose names mention B 12 or D2/D3.
  ['Insulin lispro B 12 units / L 10 units / D 8 units', 'b12Replacement'],
  ['Humulin 70/30 B 12 u, D 10 u', 'b12Replacement'],
  ['Hep B 12 months booster', 'b12Replacement'],
  ['Calcitriol (1,25-dihydroxyvitamin D3) 0.25 mcg', 'vitaminD'],
  ['Rocaltrol (calcitriol, active D3) 0.25 mcg', 'vitaminD'],
  ['Hectorol (doxercalciferol, vitamin-D2 analog) 2.5 mcg', 'vitaminD'],
  ['Zemplar (vitamin D analog)', 'vitaminD'],
  ['Calcipotriene (vitamin D analogue) cream', 'vitaminD'],
  ['Ropinirole (dopamine D2/D3 agonist) 1 mg', 'vitaminD'],
  ['Prednisone 20 mg D1-D3', 'vitaminD'],
  ['Dexamethasone 8 mg D2-D3', 'vitaminD'],
  ['NovoLog B 6 L 4 D 3 units', 'vitaminD'],
];

describe('classifyText: names as real records write them', () => {
  it.each(IS)('"%s" is %s', (text, drug) => {
    expect(classifyText(text).has(drug)).toBe(true);
  });

  it.each(IS_NOT)('"%s" is not %s', (text, drug) => {
    expect(classifyText(text).has(drug)).toBe(false);
  });

  it.each([
    ['cyanocobalamin 1 MG / folic acid 2.5 MG / pyridoxine hydrochloride 25 MG Oral Tablet', true],
    ['folic acid 0.8 MG / pyridoxine hydrochloride 10 MG / vitamin B12 0.115 MG Oral Tablet', false],
  ])(
    '"%s", its text repeating its display, is B12 replacement: %s (each label is read on its own)',
    (name, expected) => {
      const concept = {
        text: name,
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '999999', display: name }],
      };
      expect(classifyConcept(concept).has('b12Replacement')).toBe(expected);
    },
  );
});
