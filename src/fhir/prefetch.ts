import type {
  Condition,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { PatientRecord } from '../domain/patient-record.js';
import { BadRequestError, PrefetchUnavailableError, quoteName } from '../errors.js';
import { type FhirReader, FhirReadError } from './fhir-reader.js';
import { resourceProblem } from './resource-shapes.js';

export interface PrefetchInput {
  /** Key to template, for the service being called. */
  readonly templates: Readonly<Record<string, string>>;
  readonly prefetch: Readonly<Record<string, unknown>> | undefined;
  readonly context: Readonly<Record<string, unknown>>;
  /** Undefined when the request gave no FHIR server we may read. */
  readonly reader: FhirReader | undefined;
  /** Why there is no reader, for the 412 message. */
  readonly noReaderReason?: string | undefined;
  readonly deadlineMs: number;
  readonly maxPages: number;
}

export interface ResolvedPrefetch {
  readonly resources: Resource[];
  /** Keys read from the FHIR server rather than taken from prefetch. */
  readonly fetchedKeys: string[];
  /** Resources the FHIR server returned that were unusable and were left out. */
  readonly droppedFromServer: number;
}

const USER_TOKENS: Readonly<Record<string, string>> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

/**
 * Fills a template's {{context.x}} and {{userXId}} tokens (URL-encoded). Undefined when a token has no value:
 * the spec says such a template is skipped.
 */
export function substituteTokens(
  template: string,
  context: Readonly<Record<string, unknown>>,
): string | undefined {
  const userId = typeof context['userId'] === 'string' ? context['userId'] : '';
  const [userType, userLogicalId] = userId.split('/');
  const valueOf = (token: string): string | undefined => {
    const value = token.startsWith('context.')
      ? context[token.slice('context.'.length)]
      : USER_TOKENS[token] === userType
        ? userLogicalId
        : undefined;
    if (typeof value === 'number') {
      return String(value);
    }
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const tokenPattern = /\{\{\s*([^}]*?)\s*\}\}/g;
  const tokens = [...template.matchAll(tokenPattern)].map((match) => match[1] ?? '');
  if (tokens.some((token) => valueOf(token) === undefined)) {
    return undefined;
  }
  return template.replace(tokenPattern, (_match, token: string) => encodeURIComponent(valueOf(token) ?? ''));
}

function templateResourceType(template: string): { type: string; isRead: boolean } {
  const match = /^([A-Za-z]+)(\/|\?|$)/.exec(template);
  return { type: match?.[1] ?? '', isRead: match?.[2] === '/' };
}

function isResource(value: unknown): value is Resource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { resourceType?: unknown }).resourceType === 'string'
  );
}

function isErrorOutcome(resource: Resource): boolean {
  return (
    resource.resourceType === 'OperationOutcome' &&
    (Array.isArray(resource.issue) ? resource.issue : []).some(
      (issue) => issue.severity === 'error' || issue.severity === 'fatal',
    )
  );
}

type Read =
  | { readonly kind: 'data'; readonly resources: Resource[]; readonly next: string | undefined }
  | { readonly kind: 'unfulfilled' };

/**
 * What one prefetch value (or one FHIR response) holds. `null` and an empty Bundle are "no data"; an
 * OperationOutcome, or a Bundle carrying an error outcome, is "unfulfilled".
 */
function readValue(value: unknown, label: string, template: string): Read {
  if (value === null) {
    return { kind: 'data', resources: [], next: undefined };
  }
  if (!isResource(value)) {
    throw new BadRequestError(`${label} must be a FHIR resource, a Bundle or null`);
  }
  if (value.resourceType === 'OperationOutcome') {
    return { kind: 'unfulfilled' };
  }
  const expected = templateResourceType(template);
  if (value.resourceType !== 'Bundle') {
    if (!expected.isRead || value.resourceType !== expected.type) {
      throw new BadRequestError(
        `${label} has resourceType ${quoteName(value.resourceType)}; expected ${expected.isRead ? `a ${expected.type}` : `a Bundle of ${expected.type}`}`,
      );
    }
    return { kind: 'data', resources: [value], next: undefined };
  }
  const bundle = value;
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) {
    throw new BadRequestError(`${label}.entry must be an array`);
  }
  const resources: Resource[] = [];
  for (const [index, entry] of (bundle.entry ?? []).entries()) {
    const resource: unknown = (entry as { resource?: unknown } | null)?.resource;
    if (resource === undefined) {
      continue;
    }
    if (!isResource(resource)) {
      throw new BadRequestError(`${label}.entry[${index}].resource must be a FHIR resource`);
    }
    if (isErrorOutcome(resource)) {
      return { kind: 'unfulfilled' };
    }
    resources.push(resource);
  }
  const next = Array.isArray(bundle.link)
    ? bundle.link.find((link) => link.relation === 'next')?.url
    : undefined;
  return { kind: 'data', resources, next: typeof next === 'string' ? next : undefined };
}

async function fetchKey(
  key: string,
  url: string,
  template: string,
  reader: FhirReader,
  signal: AbortSignal,
  maxPages: number,
  firstPage?: Read,
): Promise<Resource[]> {
  const resources: Resource[] = [];
  let page: Read | undefined = firstPage;
  let nextUrl: string | undefined = url;
  for (let pages = 0; pages < maxPages; pages++) {
    if (!page) {
      if (!nextUrl) {
        break;
      }
      try {
        page = readValue(
          await reader.read(nextUrl, signal),
          `the FHIR server's answer for "${key}"`,
          template,
        );
      } catch (error) {
        // An unreadable answer is the server's fault, not the caller's: unfulfilled, not a bad request.
        if (error instanceof FhirReadError || error instanceof BadRequestError) {
          throw new PrefetchUnavailableError(
            `Could not read "${key}" from the FHIR server: ${error.message}`,
          );
        }
        throw error;
      }
    }
    if (page.kind === 'unfulfilled') {
      throw new PrefetchUnavailableError(`The FHIR server answered "${key}" with an error outcome`);
    }
    resources.push(...page.resources);
    nextUrl = page.next;
    page = undefined;
    if (!nextUrl) {
      return resources;
    }
  }
  throw new PrefetchUnavailableError(`"${key}" has more than ${maxPages} pages; refusing to read further`);
}

/**
 * Resolves a service's prefetch: per key, what the EHR sent, else a read from its FHIR server (all keys in
 * parallel, under one deadline), else 412. Paged Bundles are followed.
 * See {@link https://cds-hooks.hl7.org/2.0/#prefetch-template | CDS Hooks prefetch}.
 */
export async function resolvePrefetch(input: PrefetchInput): Promise<ResolvedPrefetch> {
  const supplied = input.prefetch ?? {};
  const plans = Object.entries(input.templates).map(([key, template]) => {
    const label = `prefetch.${key}`;
    const has = Object.hasOwn(supplied, key);
    const read = has ? readValue(supplied[key], label, template) : ({ kind: 'unfulfilled' } as const);
    return { key, template, read };
  });

  for (const plan of plans) {
    if (plan.read.kind === 'data') {
      for (const [index, resource] of plan.read.resources.entries()) {
        const problem = resourceProblem(resource);
        if (problem) {
          throw new BadRequestError(
            `prefetch.${plan.key} resource ${index} (${resource.resourceType}) is not valid: ${problem}`,
          );
        }
      }
    }
  }

  const needsServer = plans.filter(
    (plan) => plan.read.kind === 'unfulfilled' || plan.read.next !== undefined,
  );
  const { reader } = input;
  if (needsServer.length > 0 && !reader) {
    throw new PrefetchUnavailableError(
      `Prefetch is missing or unfulfilled for ${needsServer.map((plan) => `"${plan.key}"`).join(', ')} and there is no FHIR server to read it from: ${input.noReaderReason ?? 'the request gives no fhirServer'}`,
    );
  }

  // The deadline starts with the first read, and only when there is one.
  const signal = needsServer.length > 0 ? AbortSignal.timeout(input.deadlineMs) : undefined;
  let droppedFromServer = 0;
  const results = await Promise.all(
    plans.map(async (plan) => {
      if (plan.read.kind === 'data' && plan.read.next === undefined) {
        return plan.read.resources;
      }
      const url = substituteTokens(plan.template, input.context);
      if (url === undefined || !reader || !signal) {
        return [];
      }
      const fetched = await fetchKey(
        plan.key,
        url,
        plan.template,
        reader,
        signal,
        input.maxPages,
        plan.read.kind === 'data' ? plan.read : undefined,
      );
      return fetched.filter((resource) => {
        const usable = resourceProblem(resource) === undefined;
        droppedFromServer += usable ? 0 : 1;
        return usable;
      });
    }),
  );
  return {
    resources: results.flat(),
    fetchedKeys: needsServer.map((plan) => plan.key),
    droppedFromServer,
  };
}

/** Groups resolved resources into the record the rules read, each resource once. */
export function toPatientRecord(patientId: string, resources: readonly Resource[]): PatientRecord {
  const seen = new Set<string>();
  const byType = new Map<string, Resource[]>();
  for (const resource of resources) {
    if (resource.id !== undefined) {
      const key = `${resource.resourceType}/${resource.id}`;
      if (seen.has(key)) {
        continue;
      }
      seen.add(key);
    }
    const list = byType.get(resource.resourceType) ?? [];
    list.push(resource);
    byType.set(resource.resourceType, list);
  }
  const of = <T extends Resource>(type: T['resourceType']): T[] => (byType.get(type) ?? []) as T[];
  return {
    patientId,
    patient: of<Patient>('Patient')[0],
    conditions: of<Condition>('Condition'),
    observations: of<Observation>('Observation'),
    medicationStatements: of<MedicationStatement>('MedicationStatement'),
    medicationRequests: of<MedicationRequest>('MedicationRequest'),
    serviceRequests: of<ServiceRequest>('ServiceRequest'),
    procedures: of<Procedure>('Procedure'),
    medications: of<Medication>('Medication'),
  };
}
