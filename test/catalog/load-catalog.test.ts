import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogError, deepMerge, loadCatalog } from '../../src/catalog/load-catalog.js';
import {
  B12_BLOOD_LOINC,
  B12_TOTAL_LOINC,
  CALCIUM_RESULT_CODES,
  HOLO_TC_LOINC,
  VITAMIN_D_RESULT_CODES,
} from '../../src/domain/value-sets.js';
import { testConfig } from '../helpers/build-app.js';

const SOURCE = testConfig().catalog.dir;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'catalog-'));
  await cp(SOURCE, dir, { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function editServices(
  edit: (file: { prefetchTemplates: Record<string, string>; services: Record<string, unknown>[] }) => void,
) {
  const path = join(dir, 'services.json');
  const file = JSON.parse(await readFile(path, 'utf8')) as Parameters<typeof edit>[0];
  edit(file);
  await writeFile(path, JSON.stringify(file));
}

describe('loading cds-hooks/ at start-up', () => {
  it('loads the shipped catalogue', async () => {
    const catalog = await loadCatalog({ dir });
    expect([...catalog.services.keys()]).toEqual([
      'vitamin-d-back-pain',
      'spine-preop-vitamin-d',
      'b12-drug-risk',
    ]);
    expect(
      [...catalog.endpoints.entries()].map(([id, endpoint]) => `${id}: ${endpoint.hooks.join(' ')}`),
    ).toEqual([
      'vitamin-d-back-pain: patient-view',
      'spine-preop-vitamin-d: patient-view order-select order-sign',
      'spine-preop-vitamin-d-order-select: order-select',
      'spine-preop-vitamin-d-order-sign: order-sign',
      'b12-drug-risk: patient-view order-select order-sign',
      'b12-drug-risk-order-select: order-select',
      'b12-drug-risk-order-sign: order-sign',
    ]);
    expect(catalog.services.get('b12-drug-risk')?.prefetch['b12']).toMatch(
      /^Observation\?patient=\{\{context\.patientId\}\}/,
    );
  });

  it('searches, in each lab template, every LOINC code the rules read from it', async () => {
    const catalog = await loadCatalog({ dir });
    const searched = (key: string) =>
      new Set(
        [...catalog.services.values()]
          .flatMap((service) => service.prefetch[key] ?? [])
          .flatMap((template) => [...template.matchAll(/http:\/\/loinc\.org\|([\d-]+)/g)])
          .map((match) => match[1]),
      );
    expect(searched('vitaminD')).toEqual(new Set(VITAMIN_D_RESULT_CODES));
    expect(searched('b12')).toEqual(new Set([...B12_TOTAL_LOINC, ...B12_BLOOD_LOINC, ...HOLO_TC_LOINC]));
    expect(searched('calcium')).toEqual(new Set(CALCIUM_RESULT_CODES));
  });

  it.each([
    [
      'a nested draftOrders token',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        f.prefetchTemplates['conditions'] = 'Condition?_id={{context.draftOrders.MedicationRequest.id}}';
      },
      /not a CDS Hooks 2\.0 prefetch token/,
    ],
    [
      'an absolute template URL',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        f.prefetchTemplates['conditions'] = 'https://evil.example/Condition';
      },
      /relative FHIR read or search/,
    ],
    [
      'sort:desc',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        f.prefetchTemplates['vitaminD'] = 'Observation?patient={{context.patientId}}&sort:desc=date';
      },
      /_sort=-field/,
    ],
    [
      'an unknown prefetch key',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        (f.services[0] as { prefetch: string[] }).prefetch.push('nope');
      },
      /unknown prefetch key "nope"/,
    ],
    [
      'a hook no rule runs on',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        (f.services[0] as { hooks: Record<string, string> }).hooks['order-sign'] = 'vd-order-sign';
      },
      /no rule of this service runs on order-sign/,
    ],
    [
      'a duplicate id',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        f.services.push({ ...f.services[0] });
      },
      /duplicate id "vitamin-d-back-pain"/,
    ],
    [
      "one service's hook id taken by another",
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        (f.services[2] as { hooks: Record<string, string> }).hooks['order-sign'] =
          'spine-preop-vitamin-d-order-sign';
      },
      /duplicate id "spine-preop-vitamin-d-order-sign"/,
    ],
    [
      'an unknown hook',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        (f.services[0] as { hooks: Record<string, string> }).hooks['encounter-start'] = 'vd-encounter';
      },
      /hooks/,
    ],
    [
      'an unknown rule',
      (f: Parameters<Parameters<typeof editServices>[0]>[0]) => {
        (f.services[0] as { rules: string[] }).rules = ['XX'];
      },
      /rules/,
    ],
  ])('refuses %s', async (_name, edit, message) => {
    await editServices(edit);
    await expect(loadCatalog({ dir })).rejects.toThrow(message);
  });

  it('refuses card wording that cites unknown evidence', async () => {
    const path = join(dir, 'cards.json');
    const cards = JSON.parse(await readFile(path, 'utf8')) as {
      situations: Record<string, { evidence: string[] }>;
    };
    cards.situations['vd-untested']!.evidence = ['nobody2020'];
    await writeFile(path, JSON.stringify(cards));
    await expect(loadCatalog({ dir })).rejects.toThrow(/unknown evidence "nobody2020"/);
  });

  it("merges a site's order codes over the defaults", async () => {
    const override = join(dir, 'site-orders.json');
    await writeFile(
      override,
      JSON.stringify({
        labs: {
          vitaminD: { code: { system: 'urn:oid:1.2.3', code: 'VITD25', display: 'Vitamin D 25-OH (site)' } },
        },
      }),
    );
    const catalog = await loadCatalog({ dir, ordersOverrideFile: override });
    expect(catalog.orders.labs.vitaminD.code.code).toBe('VITD25');
    expect(catalog.orders.labs.vitaminD.text).toBe('25-hydroxyvitamin D (total)');
    expect(catalog.orders.labs.b12.code.code).toBe('2132-9');
  });

  it("merges a site's card wording and validates it", async () => {
    const override = join(dir, 'site-cards.json');
    await writeFile(
      override,
      JSON.stringify({
        situations: { 'vd-untested': { summary: 'Check vitamin D ({windowMonths} months)' } },
      }),
    );
    const catalog = await loadCatalog({ dir, cardsOverrideFile: override });
    expect(catalog.cards.situations['vd-untested'].summary).toBe('Check vitamin D ({windowMonths} months)');
    await writeFile(override, JSON.stringify({ overrideReasons: [{ system: 'x', code: 'y' }] }));
    await expect(loadCatalog({ dir, cardsOverrideFile: override })).rejects.toThrow(CatalogError);
  });

  it('deepMerge replaces arrays and values, merges objects', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } })).toEqual({
      a: { b: 1, c: [3] },
      d: 1,
    });
  });
});
