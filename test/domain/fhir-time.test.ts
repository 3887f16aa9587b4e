import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths, calendarDaysBetween, formatDate, parseFhirDate } from '../../src/domain/fhir-time.js';

const two = (value: number) => String(value).padStart(2, '0');

/** A valid FHIR dateTime with a time: any fraction length, no zone, Z, or an offset of either sign. */
const dateTimes = fc
  .record({
    year: fc.integer({ min: 1, max: 9999 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.option(fc.integer({ min: 0, max: 59 })),
    fraction: fc.option(fc.stringMatching(/^\d{1,9}$/)),
    zone: fc.oneof(
      fc.constant(''),
      fc.constant('Z'),
      fc
        .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([sign, hours, minutes]) => `${sign}${two(hours)}:${two(minutes)}`),
    ),
  })
  .map(({ year, month, day, hour, minute, second, fraction, zone }) => {
    const seconds = second === null ? '' : `:${two(second)}${fraction === null ? '' : `.${fraction}`}`;
    return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}${seconds}${zone}`;
  });

/** The reading parseFhirDate replaced (a regular expression, then the Date parser): the reference it must match. */
const FHIR_DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
function referenceReading(value: string): number | undefined {
  const match = FHIR_DATE_TIME.exec(value);
  if (!match || value.length > 40) {
    return undefined;
  }
  const [, year, month = '1', day = '1', hour, minute = '0', second = '0'] = match;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  const rolledOver =
    Number(year) < 1 || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day);
  if (rolledOver || Number(hour ?? '0') > 23 || Number(minute) > 59 || Number(second) > 59) {
    return undefined;
  }
  if (hour === undefined) {
    return date.getTime();
  }
  const time = new Date(match[7] === undefined ? `${value}Z` : value).getTime();
  return Number.isNaN(time) ? undefined : time;
}

/** Strings near the FHIR forms: valid ones, and ones with a character dropped, doubled or replaced. */
const nearDates = fc
  .tuple(
    fc.oneof(
      dateTimes,
      fc.constantFrom(
        '2026',
        '2026-02',
        '2024-02-29',
        '2026-04-30',
        '2026-01-31T23:59:59Z',
        '0001-01-01',
        '9999-12-31T23:59:59+23:59',
      ),
    ),
    fc.array(
      fc.record({
        at: fc.nat(),
        kind: fc.constantFrom('drop', 'double', 'replace'),
        with: fc.constantFrom('0', '9', '-', ':', '.', 'T', 'Z', 't', 'z', '+', ' ', 'x', '1', '3'),
      }),
      { maxLength: 2 },
    ),
  )
  .map(([value, edits]) =>
    edits.reduce((text, edit) => {
      const at = text.length === 0 ? 0 : edit.at % text.length;
      const tail = edit.kind === 'double' ? text.slice(at) : text.slice(at + 1);
      const inserted = edit.kind === 'drop' ? '' : edit.kind === 'double' ? (text[at] ?? '') : edit.with;
      return `${text.slice(0, at)}${inserted}${tail}`;
    }, value),
  );

describe('parseFhirDate', () => {
  it('reads every string near a FHIR date exactly as the regular-expression reading it replaced', () => {
    fc.assert(
      fc.property(nearDates, (value) => {
        expect(parseFhirDate(value)?.getTime()).toBe(referenceReading(value));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads every dateTime as the same instant as the JavaScript Date parser (no zone read as UTC)', () => {
    fc.assert(
      fc.property(dateTimes, (value) => {
        const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(value);
        expect(parseFhirDate(value)?.getTime()).toBe(new Date(hasZone ? value : `${value}Z`).getTime());
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['2026-01-01T10:00:00+23:59', '2025-12-31T10:01:00.000Z'],
    ['2026-12-31T23:59:59-23:00', '2027-01-01T22:59:59.000Z'],
    ['2026-01-01T10:00:00.123456789Z', '2026-01-01T10:00:00.123Z'],
    ['2026-01-01T10:00:00.5+01:00', '2026-01-01T09:00:00.500Z'],
    ['2026-01-01T10:00', '2026-01-01T10:00:00.000Z'],
    ['0050-06-01T10:00:00Z', '0050-06-01T10:00:00.000Z'],
  ])('%s is %s', (value, instant) => {
    expect(parseFhirDate(value)?.toISOString()).toBe(instant);
  });

  it.each([
    '2026-01-01T10:00:00+24:00',
    '2026-01-01T10:00:00+14:60',
    '2026-01-01T24:00:00Z',
    '2026-01-01T10:60:00Z',
    '2026-01-01T10:00:60Z',
    '2026-02-29T10:00:00Z',
    '0000-01-01',
    '2026-01-01T10',
    '2026-01-01 10:00:00Z',
  ])('%s is not a date', (value) => {
    expect(parseFhirDate(value)).toBeUndefined();
  });

  it('reads a partial date as the start of the period it names', () => {
    expect(formatDate(parseFhirDate('2026')!)).toBe('2026-01-01');
    expect(formatDate(parseFhirDate('0007-03')!)).toBe('0007-03-01');
  });
});

describe('addMonths', () => {
  it('clamps at the end of a shorter month', () => {
    expect(formatDate(addMonths(parseFhirDate('2026-01-31')!, 1))).toBe('2026-02-28');
    expect(formatDate(addMonths(parseFhirDate('2024-03-31')!, -1))).toBe('2024-02-29');
  });
});

describe('calendarDaysBetween', () => {
  it('counts dates crossed, not whole days elapsed', () => {
    const noon = parseFhirDate('2026-11-22T12:00:00Z')!;
    expect(calendarDaysBetween(noon, parseFhirDate('2026-12-12')!)).toBe(20);
    expect(calendarDaysBetween(noon, parseFhirDate('2026-12-22T08:00:00Z')!)).toBe(30);
    expect(calendarDaysBetween(noon, parseFhirDate('2026-11-22T23:59:00Z')!)).toBe(0);
    expect(calendarDaysBetween(noon, parseFhirDate('2026-11-23T00:00:00Z')!)).toBe(1);
  });
});
