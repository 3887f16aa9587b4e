import type { Resource } from '@medplum/fhirtypes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VerifiedClient } from '../../src/auth/jwt-verifier.js';
import type { CdsServiceDefinition } from '../../src/catalog/load-catalog.js';
import { gatherData } from '../../src/cds/gather-data.js';
import { PrefetchUnavailableError } from '../../src/errors.js';
import type { CdsRequestBody } from '../../src/schemas/wire-schemas.js';
import { chronicLowBackPain, daysAgo, patient, vitaminD } from '../helpers/builders.js';
import { defaultCatalog, prefetchFor, testConfig } from '../helpers/build-app.js';
import { type FakeFhirServer, startFakeFhirServer } from '../helpers/fake-fhir-server.js';
import { createLogLeakCheck } from '../helpers/log-leak-check.js';

const TOKEN = 'gather-step-token-8d1f';
const PATIENT = 'pt-gather-4711';
const HOOK_INSTANCE = '4e1f7a10-1c1d-4c56-9d2b-6b0f6f0a2c01';
const BINDINGS = { service: 'vitamin-d-back-pain', hook: 'patient-view', hookInstance: HOOK_INSTANCE };

const record: Resource[] = [
  patient(PATIENT, { name: [{ family: 'Gatherwell', given: ['Ruth'] }] }),
  chronicLowBackPain({ id: 'pain-1', patientId: PATIENT }),
  vitaminD(14, daysAgo(20), { id: 'vd-1', patientId: PATIENT }),
];

let fhir: FakeFhirServer;
let service: CdsServiceDefinition;
beforeAll(async () => {
  fhir = await startFakeFhirServer({ resources: record, token: TOKEN });
  service = (await defaultCatalog()).services.get('vitamin-d-back-pain')!;
});
afterAll(async () => {
  await fhir.close();
});
afterEach(() => {
  fhir.requests.length = 0;
});

function request(options: { fhirServer?: string; token?: string; prefetch?: boolean } = {}): CdsRequestBody {
  return {
    hook: 'patient-view',
    hookInstance: HOOK_INSTANCE,
    context: { userId: 'Practitioner/dr-1', patientId: PATIENT },
    ...(options.fhirServer ? { fhirServer: options.fhirServer } : {}),
    ...(options.token ? { fhirAuthorization: { access_token: options.token, token_type: 'Bearer' } } : {}),
    ...(options.prefetch ? { prefetch: prefetchFor(service.prefetch, record, PATIENT) } : {}),
  };
}

function client(fhirServers: string[]): VerifiedClient {
  return { iss: 'https://ehr.example.org', tenant: undefined, jti: 'jti-1', fhirServers };
}

/**
 * Runs the step with a logger that keeps every line; `logs.assertNoLeak()` fails if a line carries the
 * request's token, patient id or the patient's name.
 */
async function gather(
  body: CdsRequestBody,
  options: { env?: Record<string, string>; client?: VerifiedClient } = {},
) {
  const logs = createLogLeakCheck();
  logs.collectSecrets('gather', undefined, {
    ...body,
    prefetch: { patient: record[0] },
  });
  const run = gatherData(
    service,
    body,
    { config: testConfig(options.env) },
    options.client ?? null,
    logs.logger,
    BINDINGS,
  );
  return { run, logs, lines: () => logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('gatherData: where the data comes from', () => {
  it('complete prefetch is used as sent: no FHIR read, even with a fhirServer and token', async () => {
    const { run } = await gather(request({ prefetch: true, fhirServer: fhir.baseUrl, token: TOKEN }));
    const gathered = await run;
    expect(gathered.fetchedKeys).toEqual([]);
    expect(gathered.unavailable.size).toBe(0);
    expect(gathered.truncated).toBe(false);
    expect(gathered.resources.map((resource) => resource.id).sort()).toEqual(['pain-1', PATIENT, 'vd-1']);
    expect(fhir.requests).toEqual([]);
  });

  it('without prefetch it reads every key from the fhirServer with the bearer token', async () => {
    const { run, logs } = await gather(request({ fhirServer: fhir.baseUrl, token: TOKEN }));
    const gathered = await run;
    expect(gathered.fetchedKeys.sort()).toEqual(Object.keys(service.prefetch).sort());
    // The fake server ignores code parameters, so both Observation keys return the result.
    expect(new Set(gathered.resources.map((resource) => resource.id))).toEqual(
      new Set(['pain-1', PATIENT, 'vd-1']),
    );
    expect(fhir.requests.length).toBeGreaterThanOrEqual(Object.keys(service.prefetch).length);
    expect(fhir.requests.every((sent) => sent.authorization === `Bearer ${TOKEN}`)).toBe(true);
    logs.assertNoLeak();
  });

  it('a client allowed this fhirServer is read even where the unauthenticated allowlist would refuse it', async () => {
    const { run } = await gather(request({ fhirServer: fhir.baseUrl, token: TOKEN }), {
      env: { FHIR_SERVER_ALLOWLIST: 'https://fhir.example.org/r4' },
      client: client([fhir.baseUrl]),
    });
    expect((await run).fetchedKeys).not.toEqual([]);
    expect(fhir.requests.length).toBeGreaterThan(0);
  });

  it('leaves out and counts what the server returned unusable, and says so in the log', async () => {
    // A code of the wrong type: the rules could not read it. Only the conditions key returns it.
    const unusable = {
      ...chronicLowBackPain({ id: 'pain-bad', patientId: PATIENT }),
      code: 'back pain',
    } as unknown as Resource;
    const server = await startFakeFhirServer({ resources: [...record, unusable] });
    try {
      const { run, lines } = await gather(request({ fhirServer: server.baseUrl }));
      const gathered = await run;
      expect(gathered.droppedFromServer).toBe(1);
      expect(gathered.resources.map((resource) => resource.id)).not.toContain('pain-bad');
      expect(lines()).toContainEqual(
        expect.objectContaining({
          level: 40,
          dropped: 1,
          hookInstance: HOOK_INSTANCE,
          msg: 'left out unusable resources returned by the FHIR server',
        }),
      );
    } finally {
      await server.close();
    }
  });
});

describe('gatherData: a fhirServer it may not call (SSRF and token leaks)', () => {
  it('not on the allowlist: never called, 412 with the reason, the reason logged and the token not', async () => {
    const { run, logs, lines } = await gather(request({ fhirServer: fhir.baseUrl, token: TOKEN }), {
      env: { FHIR_SERVER_ALLOWLIST: 'https://fhir.example.org/r4' },
    });
    const error = await run.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PrefetchUnavailableError);
    expect(error).toMatchObject({ statusCode: 412 });
    expect((error as Error).message).toMatch(/fhirServer is not on the allowlist for this client$/);
    expect(fhir.requests).toEqual([]);
    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: 40,
        ...BINDINGS,
        reason: 'fhirServer is not on the allowlist for this client',
        msg: 'fhirServer not called',
      }),
    );
    expect(logs.lines.join('\n')).not.toContain(TOKEN);
    logs.assertNoLeak();
  });

  it("the client's own list wins: a loopback server the default allowlist takes is refused", async () => {
    const { run, lines } = await gather(request({ fhirServer: fhir.baseUrl, token: TOKEN }), {
      client: client(['https://ehr.example.org/fhir']),
    });
    await expect(run).rejects.toBeInstanceOf(PrefetchUnavailableError);
    expect(fhir.requests).toEqual([]);
    expect(lines().map((line) => line['reason'])).toContain(
      'fhirServer is not on the allowlist for this client',
    );
  });

  it('with complete prefetch a refused fhirServer is no error, but the refusal is still logged', async () => {
    const { run, logs, lines } = await gather(
      request({ fhirServer: fhir.baseUrl, token: TOKEN, prefetch: true }),
      { env: { FHIR_SERVER_ALLOWLIST: 'https://fhir.example.org/r4' } },
    );
    expect((await run).resources).toHaveLength(record.length);
    expect(lines().map((line) => line['msg'])).toEqual(['fhirServer not called']);
    logs.assertNoLeak();
  });

  it('no token while FHIR_FETCH_WITHOUT_TOKEN=false: not called, 412 saying there is no token', async () => {
    const { run } = await gather(request({ fhirServer: fhir.baseUrl }), {
      env: { FHIR_FETCH_WITHOUT_TOKEN: 'false' },
    });
    await expect(run).rejects.toThrow(/the request gives no fhirAuthorization token$/);
    expect(fhir.requests).toEqual([]);
  });

  it('no fhirServer and no prefetch: 412 naming the missing keys, and no refusal logged', async () => {
    const { run, lines } = await gather(request());
    const error = await run.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PrefetchUnavailableError);
    expect((error as Error).message).toMatch(/"patient", "conditions", .*the request gives no fhirServer$/);
    expect(lines()).toEqual([]);
  });
});
