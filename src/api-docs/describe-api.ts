/**
 * Completes the OpenAPI document @fastify/swagger derives from the routes' zod schemas with what the schemas
 * cannot say: the JWT security scheme, the errors every layer in front of a handler can answer (401, 413,
 * 415, 429, 503) with their real bodies, the request id header, response descriptions, operationIds and
 * examples.
 */

type JsonObject = Record<string, unknown>;

/** An OpenAPI 3.1 document, as far as this module reads or writes it. */
export interface OpenApiDocument {
  openapi: string;
  info: JsonObject;
  servers?: { url: string; description?: string }[];
  components?: {
    schemas?: Record<string, unknown>;
    securitySchemes?: Record<string, unknown>;
    headers?: Record<string, unknown>;
  };
  paths: Record<string, Record<string, Operation>>;
  security?: unknown[];
  tags?: { name: string; description: string }[];
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: unknown[];
  requestBody?: { content?: Record<string, { schema?: unknown; examples?: Record<string, unknown> }> };
  responses?: Record<string, Response>;
}

interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown; examples?: Record<string, unknown> }>;
}

/** One example call of a service on a hook: the request sent and the response the service gave. */
export interface HookExample {
  readonly serviceId: string;
  readonly hook: string;
  readonly request: unknown;
  readonly response: unknown;
}

export const SECURITY_SCHEME = 'cdsClientJwt';

const TAGS = [
  { name: 'cds-hooks', description: 'CDS Hooks 2.0 discovery, service calls and feedback.' },
  { name: 'analytics', description: 'Card outcomes for the clinical owners of the rules.' },
  { name: 'operations', description: 'Liveness, readiness and Prometheus metrics for orchestrators.' },
  { name: 'documentation', description: 'This description, as JSON and as a page.' },
];

/** Names for the operations we know; a route added later gets one derived from its method and path. */
const OPERATIONS: Readonly<Record<string, { id: string; ok: string }>> = {
  'get /cds-services': {
    id: 'discoverServices',
    ok: 'The services, each with its hook and prefetch templates.',
  },
  'post /cds-services/{id}': {
    id: 'callService',
    ok: 'The cards for this call (an empty list when none fire).',
  },
  'post /cds-services/{id}/feedback': { id: 'sendFeedback', ok: 'The feedback was stored (committed).' },
  'get /analytics/cards': {
    id: 'getCardAnalytics',
    ok: 'Cards shown, accepted and overridden per service and rule.',
  },
  'get /metrics': { id: 'getMetrics', ok: 'Prometheus text exposition.' },
  'get /healthz': { id: 'getLiveness', ok: 'The process is alive.' },
  'get /readyz': { id: 'getReadiness', ok: 'The service takes calls.' },
  'get /openapi.json': { id: 'getOpenApi', ok: 'This OpenAPI document.' },
  'get /docs': { id: 'getDocs', ok: 'This OpenAPI document as a self-contained HTML page.' },
};

const ERROR_DESCRIPTIONS: Readonly<Record<string, string>> = {
  '400': 'The request is malformed; `message` names the field and the reason.',
  '401':
    'No valid CDS client JWT (missing, bad signature, untrusted issuer, wrong `aud`, expired, replayed `jti`). The reason is logged, never sent.',
  '403': 'Forbidden.',
  '404': 'No such service (or route).',
  '412':
    'Data the rules need could be had neither from prefetch nor from `fhirServer` (none given, not allowed, an error or past the deadline).',
  '413': 'The body is larger than `BODY_LIMIT_BYTES`.',
  '415':
    'The body is of a media type the service does not read: send `application/json` or `application/fhir+json`.',
  '429':
    'Too many requests from this client (or too many failed authentications from this address); see `Retry-After`.',
  '503': 'The service is shutting down (or cannot reach its feedback store); retry on another replica.',
};

/** The body of the error handler (src/http/error-handler.ts). */
const ERROR_SCHEMA = {
  type: 'object',
  description: 'Every 4xx and 5xx the service itself sends.',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string', description: 'the HTTP reason phrase' },
    code: { type: 'string', description: 'a stable machine-readable code' },
    message: { type: 'string', description: 'what was wrong (never patient data or tokens)' },
    requestId: {
      type: 'string',
      description: 'the request id, also in the logs and the x-request-id header',
    },
  },
  required: ['statusCode', 'error', 'message'],
};

/** What Fastify itself answers to a request that arrives on an open connection while the server closes. */
const CLOSING_SCHEMA = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'error', 'message'],
};

const REQUEST_ID = '3f1c9a52-7d4e-4b8e-9a61-0c2d5e7f8a90';

const ERROR_EXAMPLES: Readonly<Record<string, unknown>> = {
  '400': {
    statusCode: 400,
    error: 'Bad Request',
    code: 'CDS_BAD_REQUEST',
    message: 'body.context.patientId: is required',
    requestId: REQUEST_ID,
  },
  '401': {
    statusCode: 401,
    error: 'Unauthorized',
    code: 'CDS_UNAUTHORIZED',
    message: 'Unauthorized',
    requestId: REQUEST_ID,
  },
  '404': {
    statusCode: 404,
    error: 'Not Found',
    code: 'CDS_SERVICE_NOT_FOUND',
    message: 'No CDS service "vitamin-k"',
    requestId: REQUEST_ID,
  },
  '412': {
    statusCode: 412,
    error: 'Precondition Failed',
    code: 'CDS_PREFETCH_UNAVAILABLE',
    message: 'prefetch "conditions" was not sent and there is no fhirServer to read it from',
    requestId: REQUEST_ID,
  },
  '413': {
    statusCode: 413,
    error: 'Payload Too Large',
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    message: 'Request body is too large',
    requestId: REQUEST_ID,
  },
  '415': {
    statusCode: 415,
    error: 'Unsupported Media Type',
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    message: 'Unsupported Media Type',
    requestId: REQUEST_ID,
  },
  '429': {
    statusCode: 429,
    error: 'Too Many Requests',
    message: 'Rate limit exceeded, retry in 1 minute',
    requestId: REQUEST_ID,
  },
  '503': { error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 },
};

/** The request id rule of src/http/connection-limits.ts. */
const REQUEST_ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' };

/** Sent on every response (src/http/connection-limits.ts, sendRequestId). */
const REQUEST_ID_HEADER = {
  description:
    'the request id: the X-Request-Id the client sent when it looks like an id, else a new UUID; the same as `requestId` in an error body and in the log lines of the call',
  schema: REQUEST_ID_SCHEMA,
};

/** Accepted on every request. */
const REQUEST_ID_PARAMETER = {
  name: 'x-request-id',
  in: 'header',
  required: false,
  description:
    "an id of the client's own for this request (a letter or digit, then up to 127 letters, digits and `._:-`), kept as the request id; any other value is replaced by a new UUID",
  schema: REQUEST_ID_SCHEMA,
};

const RATE_LIMIT_HEADERS = {
  'retry-after': { description: 'seconds until the client may call again', schema: { type: 'integer' } },
  'x-ratelimit-limit': { description: 'requests allowed per window', schema: { type: 'integer' } },
  'x-ratelimit-remaining': { description: 'requests left in this window', schema: { type: 'integer' } },
  'x-ratelimit-reset': { description: 'seconds until the window resets', schema: { type: 'integer' } },
};

/** CDS and analytics endpoints verify the CDS client's JWT; health, metrics and the docs are open. */
const isAuthenticated = (path: string): boolean =>
  path.startsWith('/cds-services') || path.startsWith('/analytics');
/** Health and metrics are exempt from the rate limit (orchestrators poll them). */
const isRateLimited = (path: string): boolean => !['/healthz', '/readyz', '/metrics'].includes(path);

function derivedOperationId(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`);
  return `${method}${words.join('')}`;
}

function errorResponse(status: string, schemaRef: string): Response {
  return {
    description: ERROR_DESCRIPTIONS[status] ?? 'Error.',
    ...(status === '429' ? { headers: RATE_LIMIT_HEADERS } : {}),
    ...(status === '401'
      ? { headers: { 'www-authenticate': { description: '`Bearer`', schema: { type: 'string' } } } }
      : {}),
    content: {
      'application/json': {
        schema: { $ref: schemaRef },
        ...(ERROR_EXAMPLES[status] ? { examples: { [status]: { value: ERROR_EXAMPLES[status] } } } : {}),
      },
    },
  };
}

function describeOperation(
  path: string,
  method: string,
  operation: Operation,
  examples: readonly HookExample[],
): void {
  const known = OPERATIONS[`${method} ${path}`];
  operation.operationId ??= known?.id ?? derivedOperationId(method, path);
  operation.summary ??= operation.operationId;
  operation.security = isAuthenticated(path) ? [{ [SECURITY_SCHEME]: [] }] : [];
  const responses = (operation.responses ??= {});
  for (const [status, response] of Object.entries(responses)) {
    const isError = Number(status) >= 400;
    if (response.description === 'Default Response') {
      response.description = isError
        ? (ERROR_DESCRIPTIONS[status] ?? 'Error.')
        : (known?.ok ??
          (path === '/readyz' && status === '503' ? 'Shutting down: take this replica out.' : 'Success.'));
    }
    const body = response.content?.['application/json'];
    // The routes' own error responses use the error handler's body; /readyz's 503 is its own.
    if (path === '/readyz' && status === '503' && body) {
      body.examples = { closing: { value: { status: 'closing' } } };
    } else if (isError && body && ERROR_EXAMPLES[status] && !body.examples) {
      body.examples = { [status]: { value: ERROR_EXAMPLES[status] } };
    }
  }
  if (path === '/readyz' && responses['503']) {
    responses['503'].description = 'Shutting down: take this replica out of the load balancer.';
  }
  const added: string[] = [];
  if (isAuthenticated(path)) {
    added.push('401');
  }
  if (method === 'post') {
    added.push('413', '415');
  }
  if (isRateLimited(path)) {
    added.push('429');
  }
  for (const status of added) {
    responses[status] ??= errorResponse(status, '#/components/schemas/Error');
  }
  responses['503'] ??= errorResponse('503', '#/components/schemas/Closing');
  for (const response of Object.values(responses)) {
    response.headers = { ...response.headers, 'x-request-id': { $ref: '#/components/headers/RequestId' } };
  }
  // Inline rather than a $ref: the /docs page lists each operation's parameters as they are.
  operation.parameters = [...(operation.parameters ?? []), REQUEST_ID_PARAMETER];
  if (path === '/cds-services/{id}' && method === 'post') {
    addHookExamples(operation, examples);
  }
}

function addHookExamples(operation: Operation, examples: readonly HookExample[]): void {
  const requestBody = operation.requestBody?.content?.['application/json'];
  const ok = operation.responses?.['200']?.content?.['application/json'];
  for (const example of examples) {
    const name = `${example.serviceId}.${example.hook}`;
    const summary = `${example.serviceId} on ${example.hook}`;
    if (requestBody) {
      (requestBody.examples ??= {})[name] = { summary, value: example.request };
    }
    if (ok) {
      (ok.examples ??= {})[name] = { summary, value: example.response };
    }
  }
}

/**
 * Completes the generated document in place and returns it.
 * @param document - what `app.swagger()` gives
 * @param examples - one request and response per service and hook, shown on `POST /cds-services/{id}`
 */
export function describeApi(document: OpenApiDocument, examples: readonly HookExample[]): OpenApiDocument {
  document.info = {
    ...document.info,
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    description: `${typeof document.info['description'] === 'string' ? document.info['description'] : ''}

CDS and analytics endpoints take the CDS client's signed JWT (CDS Hooks 2.0, "Trusting CDS Clients") as a bearer
token whenever the service has trusted issuers (AUTH_ISSUERS); without any it runs unauthenticated, and only on a
loopback address. Health, readiness, metrics and this description are open.`,
  };
  document.tags = TAGS;
  document.components = {
    ...document.components,
    securitySchemes: {
      [SECURITY_SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'A JWT signed by the CDS client (ES384 or RS384) with iss, aud (the public URL of the endpoint called), exp, iat and jti; see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients',
      },
    },
    schemas: { ...document.components?.schemas, Error: ERROR_SCHEMA, Closing: CLOSING_SCHEMA },
    headers: { RequestId: REQUEST_ID_HEADER },
  };
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      describeOperation(path, method, operation, examples);
    }
  }
  return document;
}
