/**
 * FHIR date and dateTime (https://hl7.org/fhir/R4/datatypes.html#dateTime): a year, year-month, date, or date
 * and time with a zone. No backtracking: every part is a fixed number of digits.
 */
const FHIR_DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Longer than any FHIR dateTime ("2026-11-22T12:00:00.123456789+14:00" is 35 characters). */
const MAX_DATE_LENGTH = 40;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/**
 * A FHIR date or dateTime as an instant, or undefined when it is not one. A partial value is read as the
 * start of the period it names, the earliest moment it can mean. Impossible dates ("2026-13-45",
 * "2026-02-30") are not dates: the JavaScript Date would silently roll them over into another month. FHIR
 * has no year 0, and a Date built from year 0 would show as 1900.
 */
export function parseFhirDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.length > MAX_DATE_LENGTH) {
    return undefined;
  }
  const match = FHIR_DATE_TIME.exec(value);
  if (!match) {
    return undefined;
  }
  const [, yearText, monthText, dayText, hourText, minuteText, secondText] = match;
  const year = Number(yearText);
  const month = Number(monthText ?? '1');
  const day = Number(dayText ?? '1');
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined;
  }
  if (Number(hourText ?? '0') > 23 || Number(minuteText ?? '0') > 59 || Number(secondText ?? '0') > 59) {
    return undefined;
  }
  if (hourText === undefined) {
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    return date;
  }
  // A time without a zone is read as UTC, so the same record gives the same answer on every server.
  const parsed = new Date(match[7] === undefined ? `${value}Z` : value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
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

export function wholeDaysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / DAY_MS);
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
