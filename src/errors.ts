/**
 * The service's error vocabulary. Every error we raise on purpose is one of these; the error handler maps
 * them to HTTP, sending the message for 4xx and a generic body for anything else.
 */
export class CdsHttpError extends Error {
  override readonly name: string = 'CdsHttpError';
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** Thrown when the request is malformed or does not fit the hook or the service (400). */
export class BadRequestError extends CdsHttpError {
  override readonly name = 'BadRequestError';
  constructor(message: string) {
    super(400, 'CDS_BAD_REQUEST', message);
  }
}

/** Thrown when a part of the request is over one of the service's documented size limits (413). */
export class PayloadTooLargeError extends CdsHttpError {
  override readonly name = 'PayloadTooLargeError';
  constructor(message: string) {
    super(413, 'CDS_PAYLOAD_TOO_LARGE', message);
  }
}

/**
 * Thrown when a JSON body has a `__proto__` key, or a `constructor` key holding a `prototype` (400): keys
 * that could pollute prototypes, refused by the JSON parser.
 */
export class ForbiddenKeyError extends CdsHttpError {
  override readonly name = 'ForbiddenKeyError';
  constructor(key: '__proto__' | 'constructor.prototype') {
    super(400, 'CDS_FORBIDDEN_KEY', `The body contains a forbidden key \`${key}\``);
  }
}

/** Thrown for a service id the catalogue does not have (404). */
export class ServiceNotFoundError extends CdsHttpError {
  override readonly name = 'ServiceNotFoundError';
  constructor(serviceId: string) {
    super(404, 'CDS_SERVICE_NOT_FOUND', `No CDS service with id "${serviceId}"`);
  }
}

/** Thrown when data the service needs is neither in prefetch nor readable from the FHIR server (412). */
export class PrefetchUnavailableError extends CdsHttpError {
  override readonly name = 'PrefetchUnavailableError';
  constructor(message: string) {
    super(412, 'CDS_PREFETCH_UNAVAILABLE', message);
  }
}

/**
 * Thrown when a CDS client is not authenticated (401). The client is told nothing more; the reason is for
 * the log only.
 */
export class UnauthorizedError extends CdsHttpError {
  override readonly name = 'UnauthorizedError';
  readonly reason: string;
  constructor(reason: string) {
    super(401, 'CDS_UNAUTHORIZED', 'Unauthorized');
    this.reason = reason;
  }
}

/**
 * A caller-supplied name for an error message. Messages are logged, so only a value shaped like an
 * identifier of ours (a FHIR type, a hook name) is repeated; anything else could carry patient data.
 */
export function quoteName(value: string): string {
  return /^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(value) ? `"${value}"` : '(a value that is not a valid name)';
}

/** Thrown when an address has failed authentication too often in the rate-limit window (429). */
export class TooManyFailedAuthenticationsError extends CdsHttpError {
  override readonly name = 'TooManyFailedAuthenticationsError';
  constructor(retryAfterSeconds: number) {
    super(
      429,
      'CDS_TOO_MANY_FAILED_AUTHENTICATIONS',
      `Too many failed authentications from this address; retry in ${retryAfterSeconds} s`,
    );
  }
}

/**
 * Thrown when the feedback store (the database) cannot be reached: feedback is not acknowledged, and the
 * client is told when to retry (503 with Retry-After). Hook calls never throw it: they advise without the store.
 */
export class FeedbackStoreUnavailableError extends CdsHttpError {
  override readonly name = 'FeedbackStoreUnavailableError';
  readonly retryAfterSeconds = 5;
  constructor() {
    super(
      503,
      'CDS_FEEDBACK_STORE_UNAVAILABLE',
      'The feedback store is unavailable; nothing was stored. Retry later.',
    );
  }
}
