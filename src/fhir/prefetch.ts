import type {
  Condition,
  DiagnosticReport,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { isOngoing, mayBeUse } from '../domain/medications.js';
import type { PatientRecord } from '../domain/patient-record.js';
import {
  BadRequestError,
  CdsHttpError,
  PayloadTooLargeError,
  PrefetchUnavailableError,
  quoteName,
} from '../errors.js';
import { type FhirReader, FhirReadError } from './fhir-reader.js';
import { type FhirUrl, isUnder, parseFhirUrl } from './fhir-url.js';
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
  /** Keys the FHIR server does not support, each with a fixed reason (status and issue code only). */
  readonly unavailable: ReadonlyMap<string, string>;
  /** A search stopped at maxPages: the data may be incomplete. */
  readonly truncated: boolean;
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

/** Most resources one request's prefetch may carry over all keys (a bound on work and memory per call). */
export const MAX_PREFETCH_ENTRIES = 50_000;

/** Whether an OperationOutcome reports an error; a malformed one (a `null` issue) is a bad request. */
function isErrorOutcome(resource: Resource, label: string): boolean {
  const issues: unknown = (resource as { issue?: unknown }).issue;
  if (issues !== undefined && !Array.isArray(issues)) {
    throw new BadRequestError(`${label}.issue must be an array`);
  }
  return ((issues ?? []) as unknown[]).some((issue, index) => {
    if (typeof issue !== 'object' || issue === null) {
      throw new BadRequestError(`${label}.issue[${index}] must be an object`);
    }
    const { severity } = issue as { severity?: unknown };
    return severity === 'error' || severity === 'fatal';
  });
}

/** The Bundle's `next` link; a malformed `link` (not an array, a `null` entry, a URL that is not a string) is a bad request. */
function nextLink(bundle: Resource, label: string): string | undefined {
  const links: unknown = (bundle as { link?: unknown }).link;
  if (links === undefined) {
    return undefined;
  }
  if (!Array.isArray(links)) {
    throw new BadRequestError(`${label}.link must be an array`);
  }
  let next: string | undefined;
  for (const [index, link] of (links as unknown[]).entries()) {
    if (typeof link !== 'object' || link === null) {
      throw new BadRequestError(`${label}.link[${index}] must be an object`);
    }
    const { relation, url } = link as { relation?: unknown; url?: unknown };
    if (relation === 'next' && next === undefined) {
      if (typeof url !== 'string') {
        throw new BadRequestError(`${label}.link[${index}].url must be a string`);
      }
      next = url;
    }
  }
  return next;
}

type Read =
  | { readonly kind: 'data'; readonly resources: Resource[]; readonly next: string | undefined }
  | { readonly kind: 'unfulfilled' };

/**
 * What one prefetch value (or one FHIR response) holds. `null` and an empty Bundle are "no data"; an
 * OperationOutcome, or a Bundle carrying an error outcome, is "unfulfilled". A search Bundle may carry other
 * resource types than the template's (`_include`d Medications): they are kept.
 */
function readValue(value: unknown, label: string, template: string): Read {
  if (value === null) {
    return { kind: 'data', resources: [], next: undefined };
  }
  if (!isResource(value)) {
    throw new BadRequestError(`${label} must be a FHIR resource, a Bundle or null`);
  }
  if (value.resourceType === 'OperationOutcome') {
    isErrorOutcome(value, label);
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
  const entries: unknown = (value as { entry?: unknown }).entry;
  if (entries !== undefined && !Array.isArray(entries)) {
    throw new BadRequestError(`${label}.entry must be an array`);
  }
  if (Array.isArray(entries) && entries.length > MAX_PREFETCH_ENTRIES) {
    throw new PayloadTooLargeError(`${label} has more than ${MAX_PREFETCH_ENTRIES} entries`);
  }
  const resources: Resource[] = [];
  for (const [index, entry] of ((entries ?? []) as unknown[]).entries()) {
    const resource: unknown =
      typeof entry === 'object' && entry !== null ? (entry as { resource?: unknown }).resource : undefined;
    if (resource === undefined) {
      continue;
    }
    if (!isResource(resource)) {
      throw new BadRequestError(`${label}.entry[${index}].resource must be a FHIR resource`);
    }
    if (
      resource.resourceType === 'OperationOutcome' &&
      isErrorOutcome(resource, `${label}.entry[${index}].resource`)
    ) {
      return { kind: 'unfulfilled' };
    }
    resources.push(resource);
  }
  return { kind: 'data', resources, next: nextLink(value, label) };
}

/** One key's data as read: what was read, whether paging stopped at maxPages, or why the server cannot answer it. */
type KeyRead =
  | { readonly kind: 'read'; readonly resources: Resource[]; readonly truncated: boolean }
  | { readonly kind: 'unavailable'; readonly reason: string };

async function fetchKey(
  key: string,
  url: string,
  template: string,
  reader: FhirReader,
  signal: AbortSignal,
  maxPages: number,
  firstPage?: Read,
): Promise<KeyRead> {
  const resources: Resource[] = [];
  let page: Read | undefined = firstPage;
  let nextUrl: string | undefined = url;
  for (let pages = 0; ; pages++) {
    if (!page) {
      if (!nextUrl) {
        return { kind: 'read', resources, truncated: false };
      }
      if (pages >= maxPages) {
        // Read as far as allowed; the rules are told the record may be incomplete.
        return { kind: 'read', resources, truncated: true };
      }
      try {
        page = readValue(
          await reader.read(nextUrl, signal),
          `the FHIR server's answer for "${key}"`,
          template,
        );
      } catch (error) {
        // Only the search itself can be unsupported; a next page that fails is a failure.
        if (error instanceof FhirReadError && error.unsupported && nextUrl === url) {
          return { kind: 'unavailable', reason: error.message };
        }
        // An unreadable answer is the server's fault, not the caller's: unfulfilled, not a bad request.
        if (error instanceof CdsHttpError || error instanceof FhirReadError) {
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
    if (resources.length + page.resources.length > MAX_PREFETCH_ENTRIES) {
      throw new PrefetchUnavailableError(
        `"${key}" has more than ${MAX_PREFETCH_ENTRIES} resources; refusing to read further`,
      );
    }
    resources.push(...page.resources);
    nextUrl = page.next;
    page = undefined;
  }
}

/** Most `Medication/{id}` references read one by one when a server did not `_include` them. */
const MAX_MEDICATION_READS = 20;
const MEDICATION_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * The id a reference names when it is a Medication on the reader's server: `Medication/{id}`, the same as an
 * absolute URL under the base, either one optionally `/_history/{version}` (FHIR treats these alike). A
 * reference anywhere else is never read: the token goes only under the base.
 */
function medicationIdOnServer(reference: string, base: FhirUrl): string | undefined {
  const target = parseFhirUrl(reference, base.href);
  if (typeof target === 'string' || !isUnder(target, base)) {
    return undefined;
  }
  const [type, id, ...version] = target.segments.slice(base.segments.length);
  const plain = version.length === 0 || (version.length === 2 && version[0] === '_history');
  return type === 'Medication' && id !== undefined && MEDICATION_ID.test(id) && plain ? id : undefined;
}

/**
 * Ids of Medications that MedicationRequests/Statements reference and that are not among the resources, at
 * most MAX_MEDICATION_READS: those of drugs taken now first (a long history must not crowd them out), none
 * of records the rules never count (entered in error, cancelled, not taken).
 */
function missingMedicationIds(
  resources: readonly Resource[],
  seen: ReadonlySet<string>,
  baseUrl: string,
): string[] {
  const base = parseFhirUrl(baseUrl);
  if (typeof base === 'string') {
    return [];
  }
  const present = new Set(
    resources.flatMap((resource) => (resource.resourceType === 'Medication' ? [resource.id] : [])),
  );
  for (const id of seen) {
    present.add(id);
  }
  const ongoing = new Set<string>();
  const past = new Set<string>();
  for (const resource of resources) {
    if (
      (resource.resourceType === 'MedicationRequest' || resource.resourceType === 'MedicationStatement') &&
      mayBeUse(resource)
    ) {
      const reference = resource.medicationReference?.reference;
      const id = reference === undefined ? undefined : medicationIdOnServer(reference, base);
      if (id !== undefined && !present.has(id)) {
        (isOngoing(resource) ? ongoing : past).add(id);
      }
    }
  }
  return [...new Set([...ongoing, ...past])].slice(0, MAX_MEDICATION_READS);
}

/**
 * Reads referenced Medications the server did not include. Best effort: a Medication that cannot be read
 * leaves the rules the reference's display text, as before.
 */
async function readMissingMedications(
  ids: readonly string[],
  reader: FhirReader,
  signal: AbortSignal,
): Promise<Resource[]> {
  const reads = await Promise.all(
    ids.map(async (id) => {
      try {
        const template = `Medication/${id}`;
        const read = readValue(await reader.read(template, signal), 'Medication', template);
        return read.kind === 'data' ? read.resources.filter((resource) => resource.id === id) : [];
      } catch (error) {
        if (error instanceof CdsHttpError || error instanceof FhirReadError) {
          return [];
        }
        throw error;
      }
    }),
  );
  return reads.flat();
}

/**
 * Resolves a service's prefetch: per key, what the EHR sent, else a read from its FHIR server (all keys in
 * parallel, under one deadline), else 412. Paged Bundles are followed up to maxPages (then the record is
 * marked truncated); a key the server does not support (400, 403, 404, 405) is reported unavailable for
 * the caller to decide; referenced Medications the server did not include are read.
 * See {@link https://cds-hooks.hl7.org/2.0/#prefetch-template | CDS Hooks prefetch}.
 */
export async function resolvePrefetch(input: PrefetchInput): Promise<ResolvedPrefetch> {
  const supplied = input.prefetch ?? {};
  let entries = 0;
  const plans = Object.entries(input.templates).map(([key, template]) => {
    const label = `prefetch.${key}`;
    const has = Object.hasOwn(supplied, key);
    const read = has ? readValue(supplied[key], label, template) : ({ kind: 'unfulfilled' } as const);
    entries += read.kind === 'data' ? read.resources.length : 0;
    return { key, template, read };
  });
  if (entries > MAX_PREFETCH_ENTRIES) {
    throw new PayloadTooLargeError(`prefetch carries more than ${MAX_PREFETCH_ENTRIES} resources in all`);
  }

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
  let signal: AbortSignal | undefined;
  const deadline = (): AbortSignal => (signal ??= AbortSignal.timeout(input.deadlineMs));
  let droppedFromServer = 0;
  /** Medications a server sent that were left out: read again by reference, they would be left out again. */
  const droppedMedicationIds = new Set<string>();
  /** What a FHIR server sent, less the resources the rules cannot use (counted, for the log). */
  const usableFromServer = (sent: readonly Resource[]): Resource[] =>
    sent.filter((resource) => {
      const usable = resourceProblem(resource) === undefined;
      droppedFromServer += usable ? 0 : 1;
      if (!usable && resource.resourceType === 'Medication' && typeof resource.id === 'string') {
        droppedMedicationIds.add(resource.id);
      }
      return usable;
    });
  let truncated = false;
  const unavailable = new Map<string, string>();
  const results = await Promise.all(
    plans.map(async (plan) => {
      if (plan.read.kind === 'data' && plan.read.next === undefined) {
        return plan.read.resources;
      }
      const url = substituteTokens(plan.template, input.context);
      if (url === undefined || !reader) {
        return [];
      }
      const fetched = await fetchKey(
        plan.key,
        url,
        plan.template,
        reader,
        deadline(),
        input.maxPages,
        plan.read.kind === 'data' ? plan.read : undefined,
      );
      if (fetched.kind === 'unavailable') {
        unavailable.set(plan.key, fetched.reason);
        return [];
      }
      truncated ||= fetched.truncated;
      return usableFromServer(fetched.resources);
    }),
  );
  const resources = results.flat();
  const missingMedications = reader
    ? missingMedicationIds(resources, droppedMedicationIds, reader.baseUrl)
    : [];
  if (reader && missingMedications.length > 0) {
    resources.push(...usableFromServer(await readMissingMedications(missingMedications, reader, deadline())));
  }
  return {
    resources,
    fetchedKeys: needsServer.map((plan) => plan.key),
    droppedFromServer,
    unavailable,
    truncated,
  };
}

/** Groups resolved resources into the record the rules read, each resource once. */
export function toPatientRecord(
  patientId: string,
  resources: readonly Resource[],
  fhirGaps: { unavailableKeys?: ReadonlySet<string>; truncated?: boolean } = {},
): PatientRecord {
  // Ids by type rather than "Type/id" strings: the ids are hashed once, no string is built per resource.
  const seenIds = new Map<string, Set<string>>();
  const byType = new Map<string, Resource[]>();
  for (const resource of resources) {
    if (typeof resource.id === 'string') {
      let ids = seenIds.get(resource.resourceType);
      if (!ids) {
        ids = new Set();
        seenIds.set(resource.resourceType, ids);
      }
      if (ids.has(resource.id)) {
        continue;
      }
      ids.add(resource.id);
    }
    let list = byType.get(resource.resourceType);
    if (!list) {
      list = [];
      byType.set(resource.resourceType, list);
    }
    list.push(resource);
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
    diagnosticReports: of<DiagnosticReport>('DiagnosticReport'),
    unavailableKeys: fhirGaps.unavailableKeys ?? new Set(),
    truncated: fhirGaps.truncated ?? false,
  };
}
