import type { Resource } from '@medplum/fhirtypes';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  'hang' | 'status-500' | 'status-401' | 'status-404' | 'malformed-json' | 'operation-outcome' | 'redirect';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
}

export interface FakeFhirServer {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Make every request whose path starts with the resource type fail this way. */
  fault(resourceType: string, fault: Fault | undefined): void;
  close(): Promise<void>;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/fhir+json' });
  response.end(JSON.stringify(body));
}

function belongsTo(resource: Resource, patientId: string): boolean {
  const reference =
    (resource as { subject?: { reference?: string }; patient?: { reference?: string } }).subject?.reference ??
    (resource as { patient?: { reference?: string } }).patient?.reference;
  return reference === `Patient/${patientId}` || reference === patientId;
}

/**
 * A real HTTP FHIR server for tests: reads, searches by patient (other parameters are ignored, the service
 * filters in code), paging with `next` links, an optional bearer token, and injectable faults.
 */
export async function startFakeFhirServer(options: {
  resources: readonly Resource[];
  token?: string;
  pageSize?: number;
}): Promise<FakeFhirServer> {
  const requests: RecordedRequest[] = [];
  const faults = new Map<string, Fault>();
  const hanging = new Set<ServerResponse>();
  let baseUrl = '';

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    requests.push({
      method: request.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      authorization: request.headers.authorization,
    });
    const path = url.pathname.replace(/^\/fhir\/?/, '');
    const [resourceType = '', id] = path.split('/');
    const fault = faults.get(resourceType);
    if (fault === 'hang') {
      hanging.add(response);
      return;
    }
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      sendJson(response, 401, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'login' }],
      });
      return;
    }
    switch (fault) {
      case 'status-500': {
        sendJson(response, 500, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'exception' }],
        });
        return;
      }
      case 'status-401': {
        sendJson(response, 401, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'login' }],
        });
        return;
      }
      case 'status-404': {
        sendJson(response, 404, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'not-found' }],
        });
        return;
      }
      case 'malformed-json':
        response.writeHead(200, { 'content-type': 'application/fhir+json' });
        return void response.end('{"resourceType": "Bundle", "entry": [');
      case 'operation-outcome': {
        sendJson(response, 200, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'processing' }],
        });
        return;
      }
      case 'redirect':
        response.writeHead(302, { location: 'http://127.0.0.1:9/stolen' });
        return void response.end();
      case undefined:
        break;
    }
    if (id) {
      const found = options.resources.find(
        (resource) => resource.resourceType === resourceType && resource.id === id,
      );
      if (found) {
        sendJson(response, 200, found);
      } else {
        sendJson(response, 404, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'not-found' }],
        });
      }
      return;
    }
    const patientId = (url.searchParams.get('patient') ?? url.searchParams.get('subject') ?? '').replace(
      /^Patient\//,
      '',
    );
    const matches = options.resources.filter(
      (resource) => resource.resourceType === resourceType && belongsTo(resource, patientId),
    );
    const pageSize = options.pageSize ?? 1000;
    const page = Number(url.searchParams.get('_page') ?? '0');
    const slice = matches.slice(page * pageSize, (page + 1) * pageSize);
    const hasNext = (page + 1) * pageSize < matches.length;
    const next = new URL(`${baseUrl}${resourceType}`);
    url.searchParams.forEach((value, key) => {
      next.searchParams.set(key, value);
    });
    next.searchParams.set('_page', String(page + 1));
    sendJson(response, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: matches.length,
      ...(hasNext ? { link: [{ relation: 'next', url: next.toString() }] } : {}),
      entry: slice.map((resource) => ({ resource, search: { mode: 'match' } })),
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/`;
  return {
    baseUrl,
    requests,
    fault: (resourceType, fault) => (fault ? faults.set(resourceType, fault) : faults.delete(resourceType)),
    close: async () => {
      for (const response of hanging) {
        response.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
