/**
 * FHIR date and dateTime values may be partial ("2024", "2024-05"). A partial value is read as the start of
 * the period it names, which is the earliest moment it can mean.
 */
export function parseFhirDate(value: string | undefined): Date | undefined {
  if (!value) {
    return undefined;
  }
  const partial = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value);
  if (partial) {
    const [, year, month, day] = partial;
    return new Date(Date.UTC(Number(year), Number(month ?? '1') - 1, Number(day ?? '1')));
  }
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

const DAY_MS = 86_400_000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

export function addWeeks(date: Date, weeks: number): Date {
  return addDays(date, weeks * 7);
}

/** Calendar months, so "12 months ago" on 22 November is 22 November of the year before. */
export function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  result.setUTCMonth(result.getUTCMonth() + months);
  return result;
}

export function wholeWeeksBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / (7 * DAY_MS));
}

/** YYYY-MM-DD, the way cards show dates. */
export function formatDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
