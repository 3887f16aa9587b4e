import { describe, expect, it } from 'vitest';
import { chronicLowBackPain, patient } from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor } from '../helpers/build-app.js';
import { createLogLeakCheck } from '../helpers/log-leak-check.js';

describe('logs', () => {
  it('the leak check fails when a secret reaches the log (so it can catch a real leak)', () => {
    const check = createLogLeakCheck();
    check.collectSecrets('req-1', 'Bearer eyJhbGciOiJFUzM4NCJ9.secret', {
      context: { patientId: 'patient-7f3a9c' },
    });
    check.logger.info({ reqId: 'req-1', somewhere: 'patient-7f3a9c' }, 'oops');
    expect(() => {
      check.assertNoLeak();
    }).toThrow(/the logs contain 1 secret/);
  });

  it.each([
    ['a given name', { name: [{ family: 'Quillfeather', given: ['Ottoline'] }] }, 'Ottoline'],
    ['a name written as text', { name: [{ text: 'Ottoline Quillfeather' }] }, 'Ottoline Quillfeather'],
    ['a birth date', { birthDate: '1961-02-03' }, '1961-02-03'],
  ])('the leak check catches %s', (_what, fields, leaked) => {
    const check = createLogLeakCheck();
    check.collectSecrets('req-1', undefined, {
      prefetch: { patient: { resourceType: 'Patient', id: 'patient-7f3a9c', ...fields } },
    });
    check.logger.info({ reqId: 'req-1' }, `reason: ${leaked} is not allowed`);
    expect(() => {
      check.assertNoLeak();
    }).toThrow(/the logs contain 1 secret/);
  });

  it('only a leak within the request that sent the secret counts, but lines outside requests are checked against all', () => {
    const check = createLogLeakCheck();
    check.collectSecrets('req-1', undefined, { context: { patientId: 'patient-7f3a9c' } });
    check.logger.info(
      { reqId: 'req-2', hookInstance: 'patient-7f3a9c' },
      'another request sent this value as its hookInstance',
    );
    expect(() => {
      check.assertNoLeak();
    }).not.toThrow();
    check.logger.info({ somewhere: 'patient-7f3a9c' }, 'a start-up line');
    expect(() => {
      check.assertNoLeak();
    }).toThrow(/the logs contain 1 secret/);
  });

  it('a full call logs the request id, service, hook and hookInstance, and no patient data', async () => {
    const check = createLogLeakCheck();
    const app = await buildTestApp({ deps: { loggerInstance: check.logger } });
    const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
    const hookInstance = '5d0c1f9e-1b1a-4e57-8a0f-6d1c2b3a4e5f';
    const body = {
      hook: 'patient-view',
      hookInstance,
      context: { userId: 'Practitioner/dr-1', patientId: 'patient-7f3a9c' },
      prefetch: prefetchFor(
        templates,
        [
          patient('patient-7f3a9c', {
            identifier: [{ system: 'urn:mrn', value: 'MRN-0042-77' }],
            name: [{ family: 'Zwicklebottom', given: ['Ermintrude'], text: 'Ermintrude Zwicklebottom' }],
            birthDate: '1958-07-19',
          }),
          chronicLowBackPain({ patientId: 'patient-7f3a9c' }),
        ],
        'patient-7f3a9c',
      ),
    };
    check.collectSecrets('outside-any-request', undefined, body);
    const response = await app.inject({
      method: 'POST',
      url: '/cds-services/vitamin-d-back-pain',
      payload: body,
      headers: { authorization: 'Bearer not-a-jwt-but-secret' },
    });
    expect(response.statusCode).toBe(200);
    await app.close();
    const lines = check.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const answered = lines.find((line) => line['msg'] === 'hook answered');
    expect(answered).toMatchObject({ serviceId: 'vitamin-d-back-pain', hook: 'patient-view', hookInstance });
    expect(answered?.['reqId']).toEqual(expect.any(String));
    expect(() => {
      check.assertNoLeak();
    }).not.toThrow();
    expect(check.lines.join('')).not.toContain('not-a-jwt-but-secret');
  });
});
