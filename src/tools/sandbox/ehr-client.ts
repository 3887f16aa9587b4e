import type { Resource } from '@medplum/fhirtypes';
import { importJWK, type JWK, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { substituteTokens } from '../../fhir/prefetch.js';

/** What the service's discovery says of one service and hook. */
export interface DiscoveredService {
  readonly id: string;
  readonly hook: string;
  readonly prefetch?: Record<string, string>;
}

export interface HookRequestOptions {
  readonly serviceUrl: string;
  readonly serviceId: string;
  readonly hook: 'patient-view' | 'order-select' | 'order-sign';
  readonly patientId: string;
  readonly fhirServer: string;
  readonly accessToken?: string | undefined;
  /** Draft orders for order hooks; in order-select all of them are the selections. */
  readonly orders?: readonly Resource[];
  /** Fill the service's prefetch templates from the FHIR server first, as an EHR may. */
  readonly withPrefetch: boolean;
  readonly userId?: string;
  /** Headers for a call to a service URL: a CDS client JWT, whose aud is that URL. */
  readonly authorize?: (url: string) => Promise<Record<string, string>>;
}

/** Thrown when nothing answers at a URL (nothing listening, unknown host, timeout). */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError' as const;
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`Cannot reach ${url} (${reason})`);
    this.url = url;
  }
}

/** Thrown when a GET answers with an error status. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError' as const;
  readonly url: string;
  readonly status: number;
  constructor(url: string, status: number) {
    super(`GET ${url} answered ${status}`);
    this.url = url;
    this.status = status;
  }
}

/** fetch, with "fetch failed" turned into an UnreachableError that names the URL and the cause. */
async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new UnreachableError(url, cause?.code ?? cause?.message ?? (error as Error).message);
  }
}

async function getJson(url: string, headers: Record<string, string>): Promise<unknown> {
  const response = await send(url, {
    headers: { accept: 'application/fhir+json, application/json', ...headers },
  });
  if (!response.ok) {
    throw new HttpStatusError(url, response.status);
  }
  return response.json();
}

/**
 * The discovery entry for a service and hook. Each entry has its own id; a service's own id with an order
 * hook (`b12-drug-risk order-sign`) names that hook's entry (`b12-drug-risk-order-sign`).
 */
export async function discoverService(
  options: Pick<HookRequestOptions, 'serviceUrl' | 'serviceId' | 'hook' | 'authorize'>,
): Promise<DiscoveredService> {
  const discoveryUrl = `${options.serviceUrl}/cds-services`;
  const discovery = (await getJson(discoveryUrl, (await options.authorize?.(discoveryUrl)) ?? {})) as {
    services: DiscoveredService[];
  };
  const onHook = discovery.services.filter((entry) => entry.hook === options.hook);
  const service =
    onHook.find((entry) => entry.id === options.serviceId) ??
    onHook.find((entry) => entry.id === `${options.serviceId}-${options.hook}`);
  if (!service) {
    throw new Error(`the service has no "${options.serviceId}" on ${options.hook}`);
  }
  return service;
}

/** Builds a CDS Hooks request the way an EHR would: discovery, then context, and prefetch or FHIR access. */
export async function buildHookRequest(
  options: HookRequestOptions & { readonly service?: DiscoveredService },
): Promise<Record<string, unknown>> {
  const service = options.service ?? (await discoverService(options));
  const orders = options.orders ?? [];
  const context: Record<string, unknown> = {
    userId: options.userId ?? 'Practitioner/demo-clinician',
    patientId: options.patientId,
  };
  if (options.hook !== 'patient-view') {
    context['draftOrders'] = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: orders.map((resource) => ({ resource })),
    };
  }
  if (options.hook === 'order-select') {
    context['selections'] = orders.map((order) => `${order.resourceType}/${order.id ?? ''}`);
  }
  const request: Record<string, unknown> = {
    hook: options.hook,
    hookInstance: randomUUID(),
    fhirServer: options.fhirServer,
    ...(options.accessToken
      ? {
          fhirAuthorization: {
            access_token: options.accessToken,
            token_type: 'Bearer',
            expires_in: 300,
            scope:
              'user/Patient.read user/Observation.read user/Condition.read user/MedicationRequest.read user/MedicationStatement.read user/ServiceRequest.read user/Procedure.read',
            subject: 'vitamin-cds',
            patient: options.patientId,
          },
        }
      : {}),
    context,
  };
  if (options.withPrefetch) {
    const fhirHeaders: Record<string, string> = options.accessToken
      ? { authorization: `Bearer ${options.accessToken}` }
      : {};
    const base = options.fhirServer.endsWith('/') ? options.fhirServer : `${options.fhirServer}/`;
    const entries = await Promise.all(
      Object.entries(service.prefetch ?? {}).map(async ([key, template]) => {
        const url = substituteTokens(template, context);
        return [
          key,
          url === undefined ? null : await getJson(new URL(url, base).toString(), fhirHeaders),
        ] as const;
      }),
    );
    request['prefetch'] = Object.fromEntries(entries);
  }
  return request;
}

export async function callHook(
  serviceUrl: string,
  serviceId: string,
  request: Record<string, unknown>,
  authorize?: (url: string) => Promise<Record<string, string>>,
): Promise<{ status: number; body: unknown }> {
  const url = `${serviceUrl}/cds-services/${serviceId}`;
  const response = await send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...((await authorize?.(url)) ?? {}) },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: { message: text || response.statusText } };
  }
}

/** Signs a CDS Hooks client JWT per call (ES384 or RS384 private JWK with a kid), as an EHR does. */
export async function createClientSigner(
  privateJwk: JWK,
  iss: string,
): Promise<(url: string) => Promise<Record<string, string>>> {
  const algorithm = privateJwk.alg ?? 'ES384';
  const key = await importJWK(privateJwk, algorithm);
  return async (url) => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: algorithm, kid: privateJwk.kid ?? '', typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(key);
    return { authorization: `Bearer ${token}` };
  };
}
