import { describe, expect, it } from 'vitest';
import { classifyConcept, classifyText } from '../../src/domain/medications.js';
import { METFORMIN } from '../helpers/builders.js';

describe('classifyConcept', () => {
  it('reads a code as RxNorm only under the RxNorm system', () => {
    expect(classifyConcept({ coding: [METFORMIN] }).has('metformin')).toBe(true);
    const elsewhere = { ...METFORMIN, system: 'urn:local:formulary', display: 'Formulary item 7' };
    expect(classifyConcept({ coding: [elsewhere] }).has('metformin')).toBe(false);
  });
});

describe('classifyText: a multivitamin is not vitamin D therapy, B12 replacement or folic acid', () => {
  it.each([
    'Multivitamin with B12',
    'Multi-Vitamin tablet',
    'Prenatal vitamins with folic acid 1 mg',
    'Vitamin B complex with vitamin B12',
    'B-Complex with C and folic acid',
    'ascorbic acid 60 MG / biotin 0.03 MG / folic acid 0.4 MG / vitamin B12 0.006 MG / vitamin D3 400 UNT Oral Tablet',
  ])('"%s" is none of them', (text) => {
    const classes = classifyText(text);
    expect(classes.has('b12Replacement')).toBe(false);
    expect(classes.has('vitaminD')).toBe(false);
    expect(classes.has('folicAcid')).toBe(false);
  });

  it.each([
    ['Vitamin B12 1000 mcg tablet', 'b12Replacement'],
    ['cyanocobalamin 1 MG/ML Injectable Solution', 'b12Replacement'],
    ['folic acid 2.5 MG / vitamin B6 25 MG / vitamin B12 2 MG Oral Tablet', 'b12Replacement'],
    ['calcium carbonate 600 MG / vitamin D3 400 UNT Oral Tablet', 'vitaminD'],
    ['Folic acid 5 mg tablet', 'folicAcid'],
  ] as const)('"%s" still counts as %s', (text, drug) => {
    expect(classifyText(text).has(drug)).toBe(true);
  });

  it('reads each label on its own: a three-ingredient B12 product whose text repeats its display', () => {
    const name = 'cyanocobalamin 1 MG / folic acid 2.5 MG / pyridoxine hydrochloride 25 MG Oral Tablet';
    const concept = {
      text: name,
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '999999', display: name }],
    };
    expect(classifyConcept(concept).has('b12Replacement')).toBe(true);
  });

  it('keeps B12 and folic acid at 1 mg or more in a many-ingredient product (a renal vitamin)', () => {
    const classes = classifyText(
      'ascorbic acid 100 MG / biotin 0.3 MG / folic acid 3 MG / niacinamide 20 MG / pyridoxine 10 MG / vitamin B12 1 MG Oral Tablet',
    );
    expect(classes.has('b12Replacement')).toBe(true);
    expect(classes.has('folicAcid')).toBe(true);
    expect(classifyText('Multivitamin with vitamin B12 1000 mcg').has('b12Replacement')).toBe(true);
    expect(classifyText('Multivitamin with vitamin B12 25 mcg').has('b12Replacement')).toBe(false);
  });

  it('a low-dose B12 combination is not B12 replacement, even with its display repeated', () => {
    const name = 'folic acid 0.8 MG / pyridoxine hydrochloride 10 MG / vitamin B12 0.115 MG Oral Tablet';
    const concept = {
      text: name,
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '999998', display: name }],
    };
    expect(classifyConcept(concept).has('b12Replacement')).toBe(false);
  });

  it.each([
    ['B complex with B12 1 mg', true],
    ['Vitamin B12 1,000 mcg + multivitamin', true],
    ['Nascobal 500 MCG/ACTUAT Nasal Spray', true],
    ['Vitamin B12 500 mcg tablet', true],
    ['Vitamin B12 500 mcg with folic acid 400 mcg', false],
  ] as const)('"%s" is B12 replacement: %s', (text, expected) => {
    expect(classifyText(text).has('b12Replacement')).toBe(expected);
  });

  it.each([
    ['ferrous fumarate 324 MG / folic acid 1 MG Oral Tablet', 'folicAcid'],
    ['Folic acid 1 mg tablet, take with food', 'folicAcid'],
    ['folic acid 1 MG / ML Injectable Solution', 'folicAcid'],
    ['folic acid 1 mg + vitamin C', 'folicAcid'],
    ['Vitamin B12 500 mcg daily with food', 'b12Replacement'],
    ['Cyanocobalamin 500 mcg / 0.1 mL nasal spray weekly', 'b12Replacement'],
    ['B-12 shots monthly', 'b12Replacement'],
    ['Vit B-12 injection monthly', 'b12Replacement'],
    ['Metanx capsule', 'b12Replacement'],
    ['D3 50000 IU weekly', 'vitaminD'],
    ['Vitamin-D 50000 IU', 'vitaminD'],
    ['Calciferol 50,000 IU', 'vitaminD'],
    ['Caltrate 600+D3', 'vitaminD'],
    ['Vitamin D 50000 IU / weekly / 12 weeks / then 2000 IU daily', 'vitaminD'],
  ] as const)('"%s" is %s (a unit, a sig or a plan is not a second ingredient)', (text, drug) => {
    expect(classifyText(text).has(drug)).toBe(true);
  });

  it.each([
    'Calcitriol (1,25-dihydroxyvitamin D3) 0.25 mcg',
    'Rocaltrol (calcitriol, active D3) 0.25 mcg',
    'Hectorol (doxercalciferol, vitamin-D2 analog) 2.5 mcg',
    'Zemplar (vitamin D analog)',
    'Calcipotriene (vitamin D analogue) cream',
    'Ropinirole (dopamine D2/D3 agonist) 1 mg',
    'Prednisone 20 mg D1-D3',
    'Dexamethasone 8 mg D2-D3',
    'NovoLog B 6 L 4 D 3 units',
  ])('"%s" is not vitamin D therapy', (text) => {
    expect(classifyText(text).has('vitaminD')).toBe(false);
  });

  it.each([
    'Insulin lispro B 12 units / L 10 units / D 8 units',
    'Humulin 70/30 B 12 u, D 10 u',
    'Hep B 12 months booster',
  ])('"%s" is not B12', (text) => {
    expect(classifyText(text).has('b12Replacement')).toBe(false);
  });

  it.each(['Vitamin B12 500 mcg / daily', 'B12 500 mcg / SL daily', 'Vitamin B12 500 mcg with evening meal'])(
    '"%s" is B12 on its own (a sig after a slash or "with" is not a second ingredient)',
    (text) => {
      expect(classifyText(text).has('b12Replacement')).toBe(true);
    },
  );

  it.each([
    'B12 0.115 mg / folic acid 0.8 mg / B6 10 mg',
    'B12 500 mcg / folic acid 1 mg',
    'Vitamin B12 500 mcg / folate',
    'Methylcobalamin 500 mcg / L-methylfolate',
  ])('"%s" is a low-dose B12 combination, not replacement', (text) => {
    expect(classifyText(text).has('b12Replacement')).toBe(false);
  });

  it.each([
    ['Nature Made D3 2000 IU softgel', 'vitaminD'],
    ['Bio-Tech D3-50 50,000 IU', 'vitaminD'],
    ['Calcium carbonate 1250 mg / D3 400 IU', 'vitaminD'],
    ['Calcium 600 mg with D3', 'vitaminD'],
    ['Vitamin D3 50,000 IU weekly (pt also on GLP-1 receptor agonist)', 'vitaminD'],
    ['Vitamin D3 2000 IU - hold warfarin (vitamin K antagonist)', 'vitaminD'],
    ['B 12 shot', 'b12Replacement'],
    ['vit B 12 1000 mcg', 'b12Replacement'],
  ] as const)('"%s" is %s', (text, drug) => {
    expect(classifyText(text).has(drug)).toBe(true);
  });

  it.each([
    ['Vitamin B12 500 mcg, folic acid 400 mcg', false],
    ['B12 500 mcg and folic acid 400 mcg', false],
    ['Ener-B 12', true],
    ['Folbic', true],
  ] as const)('"%s" is B12 replacement: %s', (text, expected) => {
    expect(classifyText(text).has('b12Replacement')).toBe(expected);
  });

  it.each([
    ['Folic acid 1 mg (prenatal)', 'folicAcid'],
    ['Deplin 15 mg', 'folicAcid'],
    ['Vitamin B9 400 mcg', 'folicAcid'],
    ['Decara 50,000 IU', 'vitaminD'],
    ['Ddrops 1000 IU', 'vitaminD'],
    ['D 3 1000 IU', 'vitaminD'],
  ] as const)('"%s" is %s', (text, drug) => {
    expect(classifyText(text).has(drug)).toBe(true);
  });

  it('"D-2 SS insulin" is not vitamin D', () => {
    expect(classifyText('D-2 SS insulin').has('vitaminD')).toBe(false);
  });

  it('keeps a multivitamin-named combination with metformin as metformin', () => {
    expect(classifyText('metformin / multivitamin pack').has('metformin')).toBe(true);
  });
});
