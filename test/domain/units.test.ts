import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatConverted, formatReported, normaliseValue } from '../../src/domain/units.js';
import { propertyRuns } from '../helpers/property-runs.js';

describe('formatConverted', () => {
  it('rounds to one decimal as labs write values', () => {
    expect(formatConverted(24.8372)).toBe('24.8');
    expect(formatConverted(287.26)).toBe('287.3');
    expect(formatConverted(20.03)).toBe('20');
  });

  it('shows more decimals where rounding would reach the next whole number', () => {
    expect(formatConverted(29.9649)).toBe('29.96');
    expect(formatConverted(19.999)).toBe('19.999');
    expect(formatConverted(10.5437, 2)).toBe('10.54');
  });

  it('never shows a value on the other side of a whole-number threshold', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        (value, threshold) => {
          const shown = Number(formatConverted(value));
          expect(shown < threshold).toBe(value < threshold);
        },
      ),
      { numRuns: propertyRuns(20_000) },
    );
  });

  it('never shows a value on the other side of a threshold it is given', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        (value, hundredths) => {
          const threshold = hundredths / 100;
          const shown = Number(formatConverted(value, 2, [threshold]));
          expect(Math.sign(shown - threshold)).toBe(Math.sign(value - threshold));
        },
      ),
      { numRuns: propertyRuns(20_000) },
    );
  });

  it('shows every converted vitamin D from nmol/L on the right side of 20 and 30 ng/mL', () => {
    for (let tenths = 0; tenths <= 2000; tenths++) {
      const ngMl = normaliseValue('vitaminD', tenths / 10, 'nmol/L') ?? Number.NaN;
      for (const threshold of [20, 30]) {
        expect(Number(formatConverted(ngMl)) < threshold).toBe(ngMl < threshold);
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
