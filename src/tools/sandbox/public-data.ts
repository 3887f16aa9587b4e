import type { Resource } from '@medplum/fhirtypes';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The public Synthea and SMART patients in ../shared/fhir-data, read in place (never copied into the
 * project). Absent on machines without that folder: callers skip.
 */
export const FHIR_DATA_DIR = fileURLToPath(new URL('../../../../shared/fhir-data/', import.meta.url));
export const hasPublicData = existsSync(FHIR_DATA_DIR);

export interface PublicPatient {
  readonly source: 'synthea-r4-2019' | 'synthea-bulk-2023' | 'smart-stu3';
  readonly patientId: string;
  readonly label: string;
  readonly resources: Resource[];
}

type Json = Record<string, unknown>;

const CLINICAL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const VERIFICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

/**
 * STU3 to R4 for the fields the rules read: Condition.clinicalStatus and verificationStatus become
 * CodeableConcepts, assertedDate becomes recordedDate, Observation.context becomes encounter. Everything else
 * these SMART patients carry is the same in R4 as far as the rules are concerned.
 */
export function stu3ToR4(resource: Json): Resource {
  const converted: Json = { ...resource };
  if (resource['resourceType'] === 'Condition') {
    if (typeof resource['clinicalStatus'] === 'string') {
      converted['clinicalStatus'] = {
        coding: [{ system: CLINICAL_SYSTEM, code: resource['clinicalStatus'] }],
      };
    }
    if (typeof resource['verificationStatus'] === 'string') {
      converted['verificationStatus'] = {
        coding: [{ system: VERIFICATION_SYSTEM, code: resource['verificationStatus'] }],
      };
    }
    if (resource['assertedDate'] !== undefined) {
      converted['recordedDate'] = resource['assertedDate'];
      delete converted['assertedDate'];
    }
  }
  if (resource['resourceType'] === 'Observation' && resource['context'] !== undefined) {
    converted['encounter'] = resource['context'];
    delete converted['context'];
  }
  return converted as unknown as Resource;
}

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

function bundleResources(bundle: Json): Json[] {
  return ((bundle['entry'] as { resource?: Json }[] | undefined) ?? []).flatMap((entry) =>
    entry.resource ? [entry.resource] : [],
  );
}

function patientOf(resource: Json): string | undefined {
  const reference = ((resource['subject'] ?? resource['patient']) as { reference?: string } | undefined)
    ?.reference;
  return reference?.replace(/^Patient\//, '');
}

/** Transaction bundles refer to each other by urn:uuid fullUrls; a server search needs Type/id. */
function resolveUrnReferences(bundle: Json): Json[] {
  const entries = (bundle['entry'] as { fullUrl?: string; resource?: Json }[] | undefined) ?? [];
  const byFullUrl = new Map(
    entries.flatMap((entry) =>
      entry.fullUrl && entry.resource
        ? [
            [
              entry.fullUrl,
              `${String(entry.resource['resourceType'])}/${String(entry.resource['id'])}`,
            ] as const,
          ]
        : [],
    ),
  );
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      return value.map(rewrite);
    }
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [
          key,
          key === 'reference' && typeof item === 'string' ? (byFullUrl.get(item) ?? item) : rewrite(item),
        ]),
      );
    }
    return value;
  };
  return entries.flatMap((entry) => (entry.resource ? [rewrite(entry.resource) as Json] : []));
}

function synthea2019(): PublicPatient[] {
  const dir = `${FHIR_DATA_DIR}synthea-r4-2019/`;
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      const resources = resolveUrnReferences(readJson(dir + file)) as unknown as Resource[];
      const patient = resources.find((resource) => resource.resourceType === 'Patient');
      return {
        source: 'synthea-r4-2019',
        patientId: patient?.id ?? file,
        label: file.split('_').slice(0, 2).join(' '),
        resources,
      };
    });
}

function syntheaBulk(): PublicPatient[] {
  const dir = `${FHIR_DATA_DIR}synthea-bulk-2023-10-patients/`;
  const byPatient = new Map<string, Resource[]>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ndjson'))) {
    for (const line of readFileSync(dir + file, 'utf8').split('\n')) {
      if (!line.trim()) {
        continue;
      }
      const resource = JSON.parse(line) as Json;
      const patientId =
        resource['resourceType'] === 'Patient' ? (resource['id'] as string) : patientOf(resource);
      if (!patientId) {
        continue;
      }
      byPatient.set(patientId, [...(byPatient.get(patientId) ?? []), resource as unknown as Resource]);
    }
  }
  return [...byPatient.entries()].map(([patientId, resources]) => ({
    source: 'synthea-bulk-2023',
    patientId,
    label: patientId.slice(0, 8),
    resources,
  }));
}

function smartStu3(): PublicPatient[] {
  const dir = `${FHIR_DATA_DIR}smart-stu3-sample-patients/`;
  const byPatient = new Map<string, Resource[]>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const patientKey = file.split('.')[0] ?? file;
    const resources = bundleResources(readJson(dir + file)).map(stu3ToR4);
    byPatient.set(patientKey, [...(byPatient.get(patientKey) ?? []), ...resources]);
  }
  return [...byPatient.entries()].map(([key, resources]) => {
    const patient = resources.find((resource) => resource.resourceType === 'Patient');
    return { source: 'smart-stu3', patientId: patient?.id ?? key, label: patient?.id ?? key, resources };
  });
}

export function loadPublicPatients(): PublicPatient[] {
  return [...synthea2019(), ...syntheaBulk(), ...smartStu3()];
}
