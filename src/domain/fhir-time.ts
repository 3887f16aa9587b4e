/** Longer than any FHIR dateTime ("2026-11-22T12:00:00.123456789+14:00" is 35 characters). */
const MAX_DATE_LENGTH = 40;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

const ZERO = 0x30;
const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const PLUS = 0x2b;
const LETTER_T = 0x54;
const LETTER_Z = 0x5a;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The number written by `count` ASCII digits at `start`, or -1 when any of them is not a digit (or missing). */
function digitsAt(value: string, start: number, count: number): number {
  let result = 0;
  for (let index = start; index < start + count; index++) {
    const code = value.charCodeAt(index);
    if (!isDigit(code)) {
      return -1;
    }
    result = result * 10 + code - ZERO;
  }
  return result;
}

/** Milliseconds since the epoch of a UTC calendar time; Date.UTC alone would read years 0-99 as 1900-1999. */
function utcTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number {
  if (year >= 100) {
    return Date.UTC(year, month - 1, day, hour, minute, second, millis);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}

/**
 * A FHIR date or dateTime (https://hl7.org/fhir/R4/datatypes.html#dateTime) as an instant, or undefined when
 * it is not one: a year, year-month or date, or a date and time (hh:mm, seconds optional, a fraction of 1-9
 * digits only after seconds) with an optional zone (Z or ±hh:mm). A partial value is read as the start of the
 * period it names, the earliest moment it can mean; a time without a zone is read as UTC, so the same record
 * gives the same answer on every server. Impossible dates ("2026-13-45", "2026-02-30") are not dates: a
 * JavaScript Date would silently roll them into another month; FHIR has no year 0. Read character by
 * character in one pass (every part is a fixed number of digits): dates are read many times in every call.
 */
export function parseFhirDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.length > MAX_DATE_LENGTH) {
    return undefined;
  }
  const length = value.length;
  const year = digitsAt(value, 0, 4);
  let month = 1;
  let day = 1;
  let position = 4;
  if (position < length) {
    if (value.charCodeAt(position) !== DASH) {
      return undefined;
    }
    month = digitsAt(value, position + 1, 2);
    position += 3;
    if (position < length) {
      if (value.charCodeAt(position) !== DASH) {
        return undefined;
      }
      day = digitsAt(value, position + 1, 2);
      position += 3;
    }
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined;
  }
  if (position >= length) {
    return position === length ? new Date(utcTime(year, month, day, 0, 0, 0, 0)) : undefined;
  }
  // A time (here the date is whole: after a year or a month, anything but a dash was refused above).
  if (value.charCodeAt(position) !== LETTER_T || value.charCodeAt(position + 3) !== COLON) {
    return undefined;
  }
  const hour = digitsAt(value, position + 1, 2);
  const minute = digitsAt(value, position + 4, 2);
  position += 6;
  let second = 0;
  let millis = 0;
  if (value.charCodeAt(position) === COLON) {
    second = digitsAt(value, position + 1, 2);
    position += 3;
    if (value.charCodeAt(position) === DOT) {
      // Up to nine digits; the instant keeps milliseconds (the rest is cut, as the Date parser does).
      let digits = 0;
      position += 1;
      while (isDigit(value.charCodeAt(position))) {
        if (digits < 3) {
          millis = millis * 10 + value.charCodeAt(position) - ZERO;
        }
        digits += 1;
        position += 1;
      }
      if (digits === 0 || digits > 9) {
        return undefined;
      }
      millis *= digits === 1 ? 100 : digits === 2 ? 10 : 1;
    }
  }
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (position < length) {
    const sign = value.charCodeAt(position);
    if (sign === LETTER_Z) {
      position += 1;
    } else if ((sign === PLUS || sign === DASH) && value.charCodeAt(position + 3) === COLON) {
      const offsetHours = digitsAt(value, position + 1, 2);
      const offsetMinutesPart = digitsAt(value, position + 4, 2);
      if (offsetHours < 0 || offsetHours > 23 || offsetMinutesPart < 0 || offsetMinutesPart > 59) {
        return undefined;
      }
      offsetMinutes = (sign === PLUS ? 1 : -1) * (offsetHours * 60 + offsetMinutesPart);
      position += 6;
    }
  }
  if (position !== length) {
    return undefined;
  }
  return new Date(utcTime(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000);
}

export const DAY_MS = 86_400_000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

export function addWeeks(date: Date, weeks: number): Date {
  return addDays(date, weeks * 7);
}

/**
 * Calendar months in UTC, clamped at the month's end: "12 months ago" on 22 November is 22 November of the
 * year before, and one month after 31 January is 28 (or 29) February, not 3 March.
 */
export function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  result.setUTCDate(Math.min(day, daysInMonth(result.getUTCFullYear(), result.getUTCMonth() + 1)));
  return result;
}

export function wholeWeeksBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / (7 * DAY_MS));
}

/**
 * Calendar days from one instant's date to another's, in UTC as cards show dates: an operation on 12 December
 * is 20 days away all through 22 November, whatever the hours (elapsed time would say 19 from noon on).
 */
export function calendarDaysBetween(from: Date, to: Date): number {
  return Math.floor(to.getTime() / DAY_MS) - Math.floor(from.getTime() / DAY_MS);
}

/** Whole years of age on a date (birthdays count from the day itself). */
export function ageInYears(birth: Date, on: Date): number {
  let age = on.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday =
    on.getUTCMonth() < birth.getUTCMonth() ||
    (on.getUTCMonth() === birth.getUTCMonth() && on.getUTCDate() < birth.getUTCDate());
  if (beforeBirthday) {
    age -= 1;
  }
  return age;
}

/** YYYY-MM-DD, the way cards show dates (four-digit years, so year 1 is 0001). */
export function formatDate(date: Date): string {
  const year = String(date.getUTCFullYear()).padStart(4, '0');
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${year}-${month}-${day}`;
}
