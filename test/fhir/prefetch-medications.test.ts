import type { Medication, MedicationRequest, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FhirReadError, type FhirReader } from '../../src/fhir/fhir-reader.js';
import { resolvePrefetch, toPatientRecord } from '../../src/fhir/prefetch.js';
import { defaultCatalog } from '../helpers/build-app.js';

const METFORMIN_SITAGLIPTIN: Medication = {
  resourceType: 'Medication',
  id: 'med-janumet',
  code: {
    coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '861819', display: 'Janumet' }],
  },
};
const byReference = (id: string, medicationId: string): MedicationRequest => ({
  resourceType: 'MedicationRequest',
  id,
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/pt-1' },
  medicationReference: { reference: `Medication/${medicationId}` },
});

/** A reader that serves searches from `searches` (by resource type) and reads from `reads`, and records URLs. */
function fakeReader(searches: Record<string, Resource[]>, reads: Record<string, Resource> = {}) {
  const urls: string[] = [];
  const reader: FhirReader = {
    baseUrl: 'https://fhir.example.org/r4/',
    read: async (url) => {
      urls.push(url);
      const read = reads[url];
      if (read) {
        return read;
      }
      if (/^[A-Za-z]+\//.test(url)) {
        throw new FhirReadError('the server answered 404 (not-found)', { unsupported: true });
      }
      const type = /^([A-Za-z]+)\?/.exec(url)?.[1] ?? '';
      return {
        resourceType: 'Bundle',
        type: 'searchset',
        entry: (searches[type] ?? []).map((resource) => ({ resource })),
      };
    },
  };
  return { reader, urls };
}

async function resolveCounting(reader: FhirReader | undefined, prefetch?: Record<string, unknown>) {
  const templates = (await defaultCatalog()).services.get('b12-drug-risk')!.prefetch;
  const resolved = await resolvePrefetch({
    templates,
    prefetch,
    context: { patientId: 'pt-1', userId: 'Practitioner/1' },
    reader,
    deadlineMs: 1000,
    maxPages: 5,
  });
  return { record: toPatientRecord('pt-1', resolved.resources), dropped: resolved.droppedFromServer };
}

async function resolve(reader: FhirReader | undefined, prefetch?: Record<string, unknown>) {
  return (await resolveCounting(reader, prefetch)).record;
}

describe('Medication resources reach the record (issue 12 item 6)', () => {
  it('the templates _include the referenced Medications', async () => {
    const templates = (await defaultCatalog()).services.get('b12-drug-risk')!.prefetch;
    expect(templates['medicationRequests']).toContain('_include=MedicationRequest:medication');
    expect(templates['medicationStatements']).toContain('_include=MedicationStatement:medication');
    const searches = Object.values(templates).filter((template) => template.includes('?'));
    expect(searches.filter((template) => !template.includes('_count=100'))).toEqual([]);
  });

  it('a Medication included in the same search Bundle is kept, with no extra read', async () => {
    const { reader, urls } = fakeReader({
      Patient: [],
      MedicationRequest: [byReference('rx-1', 'med-janumet'), METFORMIN_SITAGLIPTIN],
    });
    const record = await resolve(reader);
    expect(record.medicationRequests.map((request) => request.id)).toEqual(['rx-1']);
    expect(record.medications).toEqual([METFORMIN_SITAGLIPTIN]);
    expect(urls.some((url) => url.startsWith('Medication/'))).toBe(false);
  });

  it('a referenced Medication the server did not include is read on its own', async () => {
    const { reader, urls } = fakeReader(
      {
        MedicationStatement: [
          {
            resourceType: 'MedicationStatement',
            id: 'st-1',
            status: 'active',
            subject: { reference: 'Patient/pt-1' },
            medicationReference: { reference: 'Medication/med-janumet' },
          },
        ],
      },
      { 'Medication/med-janumet': METFORMIN_SITAGLIPTIN },
    );
    const record = await resolve(reader);
    expect(urls.filter((url) => url === 'Medication/med-janumet')).toHaveLength(1);
    expect(record.medications).toEqual([METFORMIN_SITAGLIPTIN]);
  });

  it.each([
    ['an absolute reference under the base', 'https://fhir.example.org/r4/Medication/med-janumet'],
    ['a version-specific reference', 'Medication/med-janumet/_history/3'],
    [
      'an absolute version-specific reference',
      'https://fhir.example.org/r4/Medication/med-janumet/_history/3',
    ],
  ])('%s the server did not include is read by id, as a relative one is', async (_name, ref) => {
    const request = { ...byReference('rx-1', 'med-janumet'), medicationReference: { reference: ref } };
    const { reader, urls } = fakeReader(
      { MedicationRequest: [request] },
      { 'Medication/med-janumet': METFORMIN_SITAGLIPTIN },
    );
    const record = await resolve(reader);
    expect(urls.filter((url) => url.startsWith('Medication/'))).toEqual(['Medication/med-janumet']);
    expect(record.medications).toEqual([METFORMIN_SITAGLIPTIN]);
  });

  it.each([
    ['on another server', 'https://other.example.org/r4/Medication/med-janumet'],
    ['beside the base', 'https://fhir.example.org/r5/Medication/med-janumet'],
    ['contained', '#med-janumet'],
    ['a search', 'Medication?code=861819'],
    ['not a Medication', 'Substance/med-janumet'],
  ])('a Medication reference %s is never read', async (_name, ref) => {
    const request = { ...byReference('rx-1', 'med-janumet'), medicationReference: { reference: ref } };
    const { reader, urls } = fakeReader(
      { MedicationRequest: [request] },
      { 'Medication/med-janumet': METFORMIN_SITAGLIPTIN },
    );
    await resolve(reader);
    // Nothing is read beyond the template searches a request with no reference at all makes.
    const baseline = fakeReader({
      MedicationRequest: [{ ...request, medicationReference: { display: 'x' } }],
    });
    await resolve(baseline.reader);
    expect([...urls].sort()).toEqual([...baseline.urls].sort());
  });

  it('past the read limit, the Medications of current use are read first and never-taken ones not at all', async () => {
    // A long history a server did not _include, oldest first: 25 stopped drugs, one order entered in error,
    // then the metformin the patient takes now.
    const stopped = Array.from({ length: 25 }, (_, index) => ({
      ...byReference(`old-${index}`, `med-old-${index}`),
      status: 'stopped' as const,
    }));
    const voided = { ...byReference('rx-void', 'med-void'), status: 'entered-in-error' as const };
    const { reader, urls } = fakeReader(
      { MedicationRequest: [...stopped, voided, byReference('rx-now', 'med-janumet')] },
      { 'Medication/med-janumet': METFORMIN_SITAGLIPTIN },
    );
    const record = await resolve(reader);
    const reads = urls.filter((url) => url.startsWith('Medication/'));
    expect(reads).toHaveLength(20);
    expect(reads[0]).toBe('Medication/med-janumet');
    expect(reads).not.toContain('Medication/med-void');
    expect(record.medications).toEqual([METFORMIN_SITAGLIPTIN]);
  });

  it.each([
    ['codings that are not a list', { coding: {} }],
    ['a null coding', { coding: [null] }],
    [
      'a code that is a number',
      { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: 6809 }] },
    ],
  ])(
    'a Medication read on its own with %s is dropped, as one in the search would be',
    async (_name, code) => {
      const malformed = { resourceType: 'Medication', id: 'med-odd', code } as unknown as Medication;
      const searched = fakeReader(
        { MedicationRequest: [byReference('rx-1', 'med-odd')] },
        { 'Medication/med-odd': malformed },
      );
      const read = await resolveCounting(searched.reader);
      expect(read.record.medications).toEqual([]);
      expect(read.dropped).toBe(1);
      const included = fakeReader(
        { MedicationRequest: [byReference('rx-1', 'med-odd'), malformed] },
        { 'Medication/med-odd': malformed },
      );
      const includedRead = await resolveCounting(included.reader);
      expect(includedRead.record.medications).toEqual([]);
      expect(includedRead.record.medicationRequests).toHaveLength(1);
      // Left out once is enough: it is not read again by reference (and left out again).
      expect(included.urls.filter((url) => url.startsWith('Medication/'))).toEqual([]);
      expect(includedRead.dropped).toBe(1);
    },
  );

  it('a Medication that cannot be read leaves the rest of the record as it is', async () => {
    const { reader } = fakeReader({ MedicationRequest: [byReference('rx-1', 'med-gone')] });
    const record = await resolve(reader);
    expect(record.medicationRequests).toHaveLength(1);
    expect(record.medications).toEqual([]);
  });

  it('a Medication in a client prefetch Bundle survives the resource checks', async () => {
    const templates = (await defaultCatalog()).services.get('b12-drug-risk')!.prefetch;
    const empty = { resourceType: 'Bundle', type: 'searchset', entry: [] };
    const prefetch: Record<string, unknown> = Object.fromEntries(
      Object.keys(templates).map((key) => [key, empty]),
    );
    prefetch['patient'] = { resourceType: 'Patient', id: 'pt-1' };
    prefetch['medicationRequests'] = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { resource: byReference('rx-1', 'med-janumet') },
        { resource: METFORMIN_SITAGLIPTIN, search: { mode: 'include' } },
      ],
    };
    const record = await resolve(undefined, prefetch);
    expect(record.medications).toEqual([METFORMIN_SITAGLIPTIN]);
  });
});
