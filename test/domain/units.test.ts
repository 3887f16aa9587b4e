import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatConverted, formatReported, normaliseValue } from '../../src/domain/units.js';
import { propertyRuns } from '../helpers/property-runs.js';

describe('formatConverted', () => {
  it('rounds to one decimal as labs write values', () => {
    expect(formatConverted(24.8372)).toBe('24.8');
    expect(formatConverted(287.26)).toBe('287.3');
    expect(formatConverted(20)).toBe('20');
  });

  it('shows more decimals where rounding would land on or cross a whole number', () => {
    expect(formatConverted(29.9649)).toBe('29.96');
    expect(formatConverted(19.999)).toBe('19.999');
    expect(formatConverted(350.01)).toBe('350.01');
    expect(formatConverted(20.03)).toBe('20.03');
  });

  it('never shows a value on the other side of a whole-number threshold', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        (value, threshold) => {
          const shown = Number(formatConverted(value));
          expect(Math.sign(shown - threshold)).toBe(Math.sign(value - threshold));
        },
      ),
      { numRuns: propertyRuns(20_000) },
    );
  });

  it('shows every converted result on the right side of its thresholds (25(OH)D 20 and 30, B12 180 and 350)', () => {
    for (let thousandths = 0; thousandths <= 300_000; thousandths++) {
      const reported = thousandths / 1000;
      for (const [analyte, unit, thresholds] of [
        ['vitaminD', 'nmol/L', [20, 30]],
        ['b12', 'pmol/L', [180, 350]],
      ] as const) {
        const converted = normaliseValue(analyte, reported, unit) ?? Number.NaN;
        for (const threshold of thresholds) {
          expect(Math.sign(Number(formatConverted(converted)) - threshold)).toBe(
            Math.sign(converted - threshold),
          );
        }
      }
    }
  });
});

describe('formatReported', () => {
  it('keeps every digit the lab sent', () => {
    expect(formatReported(2.63)).toBe('2.63');
    expect(formatReported(29.99)).toBe('29.99');
    expect(formatReported(15)).toBe('15');
  });
});
