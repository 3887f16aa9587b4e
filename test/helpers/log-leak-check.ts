import { pino } from 'pino';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Patient resources anywhere in a request body (prefetch values, Bundle entries). */
function patientsIn(value: unknown, found: Json[] = []): Json[] {
  if (Array.isArray(value)) {
    value.forEach((item) => patientsIn(item, found));
  } else if (isObject(value)) {
    if (value['resourceType'] === 'Patient') {
      found.push(value);
    }
    Object.values(value).forEach((item) => patientsIn(item, found));
  }
  return found;
}

/** Words Fastify's JSON parser itself writes when it refuses a body; an id equal to one is no leak. */
const PARSER_VOCABULARY = new Set(['constructor', 'prototype', '__proto__']);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The secret as a whole token: "name" is not found in "hostname". */
function containsToken(text: string, secret: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9])${escape(secret)}($|[^A-Za-z0-9])`).test(text);
}

/**
 * Captures everything an app logs (at trace level) and, when the app closes, fails if any secret it was sent
 * appears: bearer JWTs, FHIR access tokens, patient ids, identifiers (MRNs), names (family, given, text)
 * and birth dates.
 */
export function createLogLeakCheck() {
  const lines: string[] = [];
  /** Secrets by the id of the request that sent them. */
  const secrets = new Map<string, Set<string>>();
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });

  let current = new Set<string>();
  function add(value: unknown): void {
    // Very short values (a single digit id) would match by accident.
    if (typeof value === 'string' && value.length >= 4) {
      current.add(value);
    }
  }

  return {
    logger,
    lines,
    collectSecrets(requestId: string, authorization: string | undefined, body: unknown): void {
      current = secrets.get(requestId) ?? new Set<string>();
      secrets.set(requestId, current);
      add(/^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1]);
      if (!isObject(body)) {
        return;
      }
      const fhirAuthorization = body['fhirAuthorization'];
      if (isObject(fhirAuthorization)) {
        add(fhirAuthorization['access_token']);
      }
      const context = body['context'];
      if (isObject(context)) {
        add(context['patientId']);
      }
      for (const patient of patientsIn(body)) {
        add(patient['id']);
        for (const identifier of (patient['identifier'] as Json[] | undefined) ?? []) {
          add(identifier['value']);
        }
        add(patient['birthDate']);
        for (const name of (patient['name'] as Json[] | undefined) ?? []) {
          add(name['family']);
          add(name['text']);
          for (const given of (name['given'] as unknown[] | undefined) ?? []) {
            add(given);
          }
        }
      }
    },
    /**
     * A secret leaks when it appears in a log line of the request that sent it; lines that belong to no
     * request (start-up, shutdown) are checked against every secret.
     */
    assertNoLeak(): void {
      const all = new Set([...secrets.values()].flatMap((set) => [...set]));
      const leaked = new Set<string>();
      for (const line of lines) {
        const requestId = /"reqId":"([^"]+)"/.exec(line)?.[1];
        const candidates = requestId === undefined ? all : (secrets.get(requestId) ?? new Set<string>());
        for (const secret of candidates) {
          if (!PARSER_VOCABULARY.has(secret) && containsToken(line, secret)) {
            leaked.add(secret);
          }
        }
      }
      if (leaked.size > 0) {
        const names = [...leaked].map((secret) => `${secret.slice(0, 6)}…`).join(', ');
        throw new Error(`the logs contain ${leaked.size} secret(s) the app was sent: ${names}`);
      }
    },
  };
}
