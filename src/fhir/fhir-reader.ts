import type { Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import type { FhirReadCache } from './fhir-cache.js';
import { type FhirUrl, isUnder, parseFhirUrl } from './fhir-url.js';

/** The one way the service reads FHIR: GET a URL under the EHR's FHIR base. */
export interface FhirReader {
  /** The normalised base URL (with a trailing slash) every read stays under. */
  readonly baseUrl: string;
  /**
   * Reads a relative FHIR URL (a prefetch template) or an absolute one under baseUrl (a Bundle next link).
   * Rejects a URL outside baseUrl, so the token is never sent anywhere else.
   */
  read(url: string, signal: AbortSignal): Promise<Resource>;
}

/**
 * Thrown when a FHIR read gives no usable resource. `unsupported` marks answers by which a server says it
 * does not offer what was asked (400, 403, 404, 405: an unknown resource type or search parameter), as
 * opposed to a failure (timeout, 5xx, 401, a bad body). The message is a fixed reason plus status and issue
 * code: never text from the response, which may carry patient data.
 */
export class FhirReadError extends Error {
  override readonly name = 'FhirReadError' as const;
  readonly unsupported: boolean;
  constructor(message: string, options: { unsupported?: boolean } = {}) {
    super(message);
    this.unsupported = options.unsupported ?? false;
  }
}

const UNSUPPORTED_STATUSES = new Set([400, 403, 404, 405]);

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
};
/** Sent on every FHIR read, so an EHR's logs name the caller. */
export const USER_AGENT = `${PACKAGE.name}/${PACKAGE.version}`;

export function normaliseBaseUrl(fhirServer: string): string {
  const parsed = parseFhirUrl(fhirServer);
  const href = typeof parsed === 'string' ? fhirServer : parsed.href;
  return href.endsWith('/') ? href : `${href}/`;
}

/** The body, read chunk by chunk and abandoned as soon as it passes maxBytes (never buffered whole first). */
async function readBounded(response: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const tooLarge = `the response is larger than ${maxBytes} bytes (FHIR_MAX_RESPONSE_BYTES)`;
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new FhirReadError(tooLarge);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw new FhirReadError(tooLarge);
      }
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks, size);
}

/**
 * A body as text. The WHATWG decoder drops a leading UTF-8 byte order mark, which some servers (.NET ones)
 * write and JSON.parse would refuse; RFC 8259 lets a parser ignore it.
 */
const UTF8 = new TextDecoder();

/** The first issue code of an OperationOutcome body, when it looks like a FHIR code (never its text). */
function issueCode(body: Buffer): string | undefined {
  try {
    const outcome = JSON.parse(UTF8.decode(body)) as { issue?: unknown };
    const issue: unknown = Array.isArray(outcome.issue) ? outcome.issue[0] : undefined;
    const code: unknown =
      typeof issue === 'object' && issue !== null ? (issue as { code?: unknown }).code : undefined;
    return typeof code === 'string' && /^[a-z-]{1,32}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function describeFailure(error: unknown, deadlineMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${deadlineMs} ms`;
  }
  return 'the server could not be reached';
}

/**
 * A read shared through the cache, as one caller sees it: given up when this caller's own deadline passes,
 * while the read goes on for the others that wait on it.
 */
function untilAborted<T>(shared: Promise<T>, signal: AbortSignal, deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      reject(new FhirReadError(describeFailure(signal.reason, deadlineMs)));
    };
    signal.addEventListener('abort', abort, { once: true });
    shared.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', abort);
    });
  });
}

/**
 * A FhirReader on the platform fetch against any FHIR R4 server, with the CDS Hooks bearer token when the
 * EHR sent one. No retries: the per-request deadline bounds every call. Redirects are never followed (a
 * redirect could carry the token, or serve a resource, from outside the base), responses are size-bounded,
 * and only `Accept`, `User-Agent` and `Authorization` are sent.
 */
export function createFhirReader(options: {
  fhirServer: string;
  accessToken?: string | undefined;
  deadlineMs: number;
  maxResponseBytes: number;
  fetch?: typeof fetch | undefined;
  cache?: FhirReadCache | undefined;
}): FhirReader {
  const baseUrl = normaliseBaseUrl(options.fhirServer);
  const base = parseFhirUrl(baseUrl);
  const fetchImpl = options.fetch ?? fetch;
  const headers: Record<string, string> = { accept: 'application/fhir+json', 'user-agent': USER_AGENT };
  if (options.accessToken) {
    headers['authorization'] = `Bearer ${options.accessToken}`;
  }

  const load = async (url: FhirUrl, signal: AbortSignal): Promise<{ resource: Resource; bytes: number }> => {
    let response: Response;
    try {
      response = await fetchImpl(url.href, { method: 'GET', headers, redirect: 'manual', signal });
    } catch (error) {
      throw new FhirReadError(describeFailure(error, options.deadlineMs));
    }
    let body: Buffer;
    try {
      body = await readBounded(response, options.maxResponseBytes);
    } catch (error) {
      throw error instanceof FhirReadError
        ? error
        : new FhirReadError(describeFailure(error, options.deadlineMs));
    }
    if (response.status >= 300 && response.status < 400) {
      throw new FhirReadError(`the server answered ${response.status} (a redirect, which is never followed)`);
    }
    if (!response.ok) {
      const code = issueCode(body);
      throw new FhirReadError(`the server answered ${response.status}${code ? ` (${code})` : ''}`, {
        unsupported: UNSUPPORTED_STATUSES.has(response.status),
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(UTF8.decode(body));
    } catch {
      throw new FhirReadError('the response was not valid JSON');
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      typeof (parsed as { resourceType?: unknown }).resourceType !== 'string'
    ) {
      throw new FhirReadError('the response was not a FHIR resource');
    }
    return { resource: parsed as Resource, bytes: body.byteLength };
  };

  return {
    baseUrl,
    async read(url, signal) {
      const target = parseFhirUrl(url, baseUrl);
      if (typeof base === 'string' || typeof target === 'string' || !isUnder(target, base)) {
        throw new FhirReadError('a link pointed outside the FHIR server');
      }
      if (!options.cache) {
        return (await load(target, signal)).resource;
      }
      if (signal.aborted) {
        throw new FhirReadError(describeFailure(signal.reason, options.deadlineMs));
      }
      // Calls in a burst share one read, so it runs under a deadline of its own, not the first caller's:
      // a later call that joins it keeps its own time (the first caller's deadline cut it short).
      const shared = options.cache.read(baseUrl, options.accessToken, target.href, () =>
        load(target, AbortSignal.timeout(options.deadlineMs)),
      );
      return (await untilAborted(shared, signal, options.deadlineMs)).resource;
    },
  };
}
