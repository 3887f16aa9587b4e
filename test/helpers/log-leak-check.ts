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

/**
 * Captures everything an app logs (at trace level) and, when the app closes, fails if any secret it was sent
 * appears: bearer JWTs, FHIR access tokens, patient ids, identifiers (MRNs) and names.
 */
export function createLogLeakCheck() {
  const lines: string[] = [];
  const secrets = new Set<string>();
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });

  function add(value: unknown): void {
    // Very short values (a single digit id) would match by accident.
    if (typeof value === 'string' && value.length >= 4) {
      secrets.add(value);
    }
  }

  return {
    logger,
    lines,
    collectSecrets(authorization: string | undefined, body: unknown): void {
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
        for (const name of (patient['name'] as Json[] | undefined) ?? []) {
          add(name['family']);
        }
      }
    },
    assertNoLeak(): void {
      const text = lines.join('');
      const leaked = [...secrets].filter((secret) => text.includes(secret));
      if (leaked.length > 0) {
        throw new Error(
          `the logs contain ${leaked.length} secret(s) the app was sent: ${leaked.map((secret) => `${secret.slice(0, 6)}…`).join(', ')}`,
        );
      }
    },
  };
}
