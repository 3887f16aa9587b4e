import { MedplumClient } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirReadCache } from './fhir-cache.js';

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

export class FhirReadError extends Error {
  override readonly name = 'FhirReadError' as const;
}

export function normaliseBaseUrl(fhirServer: string): string {
  return fhirServer.endsWith('/') ? fhirServer : `${fhirServer}/`;
}

function describeFailure(error: unknown, deadlineMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return `no answer within ${deadlineMs} ms`;
    }
    if (error.name === 'SyntaxError') {
      return 'the response was not valid JSON';
    }
    if (error.name === 'TypeError') {
      return 'the server could not be reached';
    }
    const outcome = (error as { outcome?: { issue?: { code?: string; details?: { text?: string } }[] } })
      .outcome;
    const issue = outcome?.issue?.[0];
    if (issue?.code) {
      return `the server answered with an error (${issue.code}${issue.details?.text ? `: ${issue.details.text}` : ''})`;
    }
  }
  return 'the server answered with an error';
}

/**
 * A FhirReader on MedplumClient against any FHIR R4 server, with the CDS Hooks bearer token when the EHR
 * sent one. No retries and no cache: the per-request deadline bounds every call, and tokens are per call.
 */
export function createFhirReader(options: {
  fhirServer: string;
  accessToken?: string | undefined;
  deadlineMs: number;
  fetch?: typeof fetch | undefined;
  cache?: FhirReadCache | undefined;
}): FhirReader {
  const baseUrl = normaliseBaseUrl(options.fhirServer);
  const client = new MedplumClient({
    baseUrl,
    fhirUrlPath: baseUrl,
    ...(options.accessToken ? { accessToken: options.accessToken } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    cacheTime: 0,
    maxRetries: 0,
    // A redirect could carry the bearer token to another host.
    redirect: 'error',
    logLevel: 'none',
    onUnauthenticated: () => undefined,
  });
  return {
    baseUrl,
    async read(url, signal) {
      const absolute = new URL(url, baseUrl).toString();
      if (!absolute.startsWith(baseUrl)) {
        throw new FhirReadError('a link pointed outside the FHIR server');
      }
      const load = async (): Promise<Resource> => {
        let body: unknown;
        try {
          body = await client.get(absolute, { signal, cache: 'no-store' });
        } catch (error) {
          throw new FhirReadError(describeFailure(error, options.deadlineMs));
        }
        if (
          typeof body !== 'object' ||
          body === null ||
          typeof (body as { resourceType?: unknown }).resourceType !== 'string'
        ) {
          throw new FhirReadError('the response was not a FHIR resource');
        }
        return body as Resource;
      };
      return options.cache ? options.cache.read(baseUrl, options.accessToken, absolute, load) : load();
    },
  };
}
