import type { Observation, Quantity } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { b12Results, vitaminDResults } from '../../src/domain/lab-results.js';
import { resultFact } from '../../src/domain/rules/result-facts.js';
import { b12, daysAgo, NOW, vitaminD } from '../helpers/builders.js';

/** The same result with its valueQuantity replaced. */
function withQuantity(observation: Observation, quantity: Quantity): Observation {
  return { ...observation, valueQuantity: quantity };
}

describe('the unit of a valueQuantity', () => {
  it('reads the UCUM code when the quantity is UCUM', () => {
    const result = vitaminDResults(
      [
        withQuantity(vitaminD(0, daysAgo(3)), {
          value: 50,
          unit: 'nmol/l',
          system: 'http://unitsofmeasure.org',
          code: 'nmol/L',
        }),
      ],
      NOW,
    )[0];
    expect(result?.reportedUnit).toBe('nmol/L');
    expect(result?.normalisedValue).toBeCloseTo(20.03, 2);
  });

  it('reads the unit text when the code belongs to another system (a local unit code is not UCUM)', () => {
    const [vd] = vitaminDResults(
      [
        withQuantity(vitaminD(0, daysAgo(3)), {
          value: 14,
          unit: 'ng/mL',
          system: 'http://lab.example.org/units',
          code: 'NGML',
        }),
      ],
      NOW,
    );
    expect(vd?.reportedUnit).toBe('ng/mL');
    expect(vd?.normalisedValue).toBe(14);
    const [total] = b12Results(
      [
        withQuantity(b12(0, daysAgo(3)), {
          value: 150,
          unit: 'pmol/L',
          system: 'http://lab.example.org/units',
          code: 'PMOLL',
        }),
      ],
      NOW,
    );
    expect(total?.reportedUnit).toBe('pmol/L');
    expect(total?.normalisedValue).toBeCloseTo(203.25, 2);
  });

  it('still reads a code sent without a system, and the unit text when there is no code', () => {
    const [coded] = vitaminDResults(
      [withQuantity(vitaminD(0, daysAgo(3)), { value: 14, code: 'ng/mL' })],
      NOW,
    );
    expect(coded?.normalisedValue).toBe(14);
    const [text] = vitaminDResults(
      [withQuantity(vitaminD(0, daysAgo(3)), { value: 14, unit: 'ng/ml' })],
      NOW,
    );
    expect(text?.normalisedValue).toBe(14);
  });
});

describe('a unit sent in another field or under another name for UCUM', () => {
  it.each([
    [
      'the UCUM OID',
      { unit: 'nanogram per milliliter', system: 'urn:oid:2.16.840.1.113883.6.8', code: 'ng/mL' },
    ],
    [
      'UCUM with a trailing slash',
      { unit: 'ng/mL [calc]', system: 'http://unitsofmeasure.org/', code: 'ng/mL' },
    ],
    [
      'a UCUM code that is not a unit we know, beside a unit text we do',
      { unit: 'ng/mL', system: 'http://unitsofmeasure.org', code: 'ng/mL{calc}' },
    ],
    [
      'a local code, unit text unknown, code known',
      { unit: 'nanograms/ml', system: 'urn:local', code: 'ng/mL' },
    ],
  ])('%s: classified', (_name, quantity) => {
    const [result] = vitaminDResults(
      [withQuantity(vitaminD(0, daysAgo(3)), { value: 14, ...quantity })],
      NOW,
    );
    expect(result?.normalisedValue).toBe(14);
    expect(result?.reportedUnit).toBe('ng/mL');
  });

  it.each([
    ['its URL', 'http://unitsofmeasure.org'],
    ['its URL with a trailing slash', 'http://unitsofmeasure.org/'],
    ['its OID', 'urn:oid:2.16.840.1.113883.6.8'],
  ])('UCUM named by %s: the code wins over a unit text that disagrees', (_name, system) => {
    const [result] = vitaminDResults(
      [withQuantity(vitaminD(0, daysAgo(3)), { value: 50, unit: 'ng/mL', system, code: 'nmol/L' })],
      NOW,
    );
    expect(result?.reportedUnit).toBe('nmol/L');
  });

  it('neither known: counted as tested, not classified, shown as sent', () => {
    const [result] = vitaminDResults(
      [
        withQuantity(vitaminD(0, daysAgo(3)), {
          value: 14,
          unit: 'IU/L',
          system: 'http://unitsofmeasure.org',
          code: '[IU]/L',
        }),
      ],
      NOW,
    );
    expect(result?.normalisedValue).toBeUndefined();
    expect(result?.reportedUnit).toBe('[IU]/L');
  });
});

describe('the date a result is shown with', () => {
  it.each([
    ['2026-11-12T20:30:00-05:00', '2026-11-12'],
    ['2026-11-13T07:15:00+09:00', '2026-11-13'],
    ['2026-11-12', '2026-11-12'],
    ['2026-11', '2026-11'],
  ])('%s is shown as %s, the date the record writes', (when, shown) => {
    expect(vitaminDResults([vitaminD(15, when)], NOW)[0]?.date).toBe(shown);
  });

  it('is the date of the time that is used: effectivePeriod.start, then issued', () => {
    const { effectiveDateTime: _dropped, ...undated } = vitaminD(15, '2026-11-01');
    const period = { ...undated, effectivePeriod: { start: '2026-11-10T23:00:00-08:00' } };
    expect(vitaminDResults([period], NOW)[0]?.date).toBe('2026-11-10');
    const issued = { ...undated, issued: '2026-11-09T22:00:00-06:00' };
    expect(vitaminDResults([issued], NOW)[0]?.date).toBe('2026-11-09');
  });
});

describe('a crafted record with very many results in one measurement', () => {
  it('reads a result among the components past the first 20 when the others are other tests', () => {
    const { valueQuantity: _none, ...panel } = vitaminD(0, daysAgo(3));
    const others = Array.from({ length: 30 }, (_, index) => ({
      code: { coding: [{ system: 'http://loinc.org', code: `9999-${index}` }] },
      valueQuantity: { value: index, unit: 'mg/dL' },
    }));
    const total = {
      code: { coding: [{ system: 'http://loinc.org', code: '62292-8' }] },
      valueQuantity: { value: 14, unit: 'ng/mL' },
    };
    expect(vitaminDResults([{ ...panel, component: [...others, total] }], NOW)[0]?.normalisedValue).toBe(14);
  });

  it('reads at most 20 components of one Observation, and a card lists at most 3 results beside the one it uses', () => {
    const { valueQuantity: _total, ...withoutValue } = b12(0, daysAgo(3));
    const panel: Observation = {
      ...withoutValue,
      component: Array.from({ length: 5000 }, (_, index) => ({
        code: { coding: [{ system: 'http://loinc.org', code: '2132-9' }] },
        valueQuantity: { value: 200 + index, unit: 'pg/mL' },
      })),
    };
    const [result] = b12Results([panel], NOW);
    expect(result?.alongside).toHaveLength(19);
    const fact = resultFact(result!);
    expect(fact.match(/measured with it/g)).toHaveLength(3);
    expect(fact).toContain('; and 16 more');
  });
});
