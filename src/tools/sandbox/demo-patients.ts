import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DEMO_PATIENTS_DIR = fileURLToPath(
  new URL('../../../cds-hooks/examples/patients/', import.meta.url),
);

export interface DemoPatient {
  readonly id: string;
  /** What the patient shows, for the README and the demo. */
  readonly shows: string;
  /** The cards each service gives on patient-view ("VD warning"). */
  readonly expected: Readonly<Record<string, readonly string[]>>;
  readonly resources: Resource[];
}

const DATE = /^(\d{4}-\d{2}-\d{2})(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/;

/** Moves every date and dateTime in a resource by the same amount, keeping each one's precision. */
export function shiftDates<T>(value: T, byMs: number): T {
  if (typeof value === 'string') {
    const match = DATE.exec(value);
    if (!match) {
      return value;
    }
    const shifted = new Date(
      new Date(match[2] ? value : `${value}T00:00:00Z`).getTime() + byMs,
    ).toISOString();
    return (match[2] ? shifted : shifted.slice(0, 10)) as T;
  }
  if (Array.isArray(value)) {
    return value.map((item: unknown) => shiftDates(item, byMs)) as T;
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shiftDates(item, byMs)])) as T;
  }
  return value;
}

/**
 * The demo patients, with their dates moved so that the Bundle's timestamp is `now`: a result written as
 * "three weeks ago" stays three weeks old whenever the demo runs.
 */
export function loadDemoPatients(now: Date = new Date()): DemoPatient[] {
  const index = JSON.parse(readFileSync(`${DEMO_PATIENTS_DIR}index.json`, 'utf8')) as Omit<
    DemoPatient,
    'resources'
  >[];
  const files = new Set(readdirSync(DEMO_PATIENTS_DIR));
  return index.map((entry) => {
    if (!files.has(`${entry.id}.json`)) {
      throw new Error(`index.json names ${entry.id} but ${entry.id}.json is missing`);
    }
    const bundle = JSON.parse(readFileSync(`${DEMO_PATIENTS_DIR}${entry.id}.json`, 'utf8')) as Bundle;
    const offset = now.getTime() - new Date(bundle.timestamp ?? now.toISOString()).getTime();
    const resources = (bundle.entry ?? []).flatMap((item) =>
      item.resource ? [shiftDates(item.resource, offset)] : [],
    );
    return { ...entry, resources };
  });
}
