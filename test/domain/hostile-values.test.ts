import { readFile } from 'node:fs/promises';
import type { Medication, MedicationRequest, Observation } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/domain/evaluate.js';
import { addMonths, formatDate, parseFhirDate } from '../../src/domain/fhir-time.js';
import { countFutureDatedResults, vitaminDResults } from '../../src/domain/lab-results.js';
import { classifyConcept, classifyText, medicationConcept } from '../../src/domain/medications.js';
import {
  chronicLowBackPain,
  daysAgo,
  daysAhead,
  NOW,
  observation,
  PATIENT_ID,
  rxnorm,
  vitaminD,
} from '../helpers/builders.js';
import { buildTestApp, defaultCatalog, prefetchFor, runService, testConfig } from '../helpers/build-app.js';
import { listeningBaseUrl, probeEventLoopBestOf } from '../helpers/event-loop-probe.js';
import { renderGfm } from '../helpers/markdown.js';

describe('issue 15 item 1: value strings are parsed in linear time', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  beforeAll(async () => {
    app = await buildTestApp();
    baseUrl = await listeningBaseUrl(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('100,000 spaces and an "x" as a valueString: /healthz keeps answering within 100 ms', async () => {
    const hostile = observation('62292-8', undefined, undefined, daysAgo(3), {
      valueString: `${' '.repeat(100_000)}x`,
    });
    const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
    const body = JSON.stringify({
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      context: { userId: 'Practitioner/1', patientId: PATIENT_ID },
      prefetch: prefetchFor(templates, [chronicLowBackPain(), hostile]),
    });
    const probe = await probeEventLoopBestOf(baseUrl, async () => {
      const response = await fetch(`${baseUrl}/cds-services/vitamin-d-back-pain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, body: (await response.json()) as { cards: unknown[] } };
    });
    expect(probe.result.status).toBe(200);
    // The value is unreadable, so the patient counts as untested.
    expect(probe.result.body.cards).toHaveLength(1);
    expect(probe.worstHealthzMs).toBeLessThan(100);
  });

  it.each([
    ['15,5 ng/mL', 15.5, 'ng/mL', undefined],
    ['<8 ng/mL', 8, 'ng/mL', '<'],
    ['  >= 40,0  nmol/L ', 40, 'nmol/L', '>='],
    ['23', 23, undefined, undefined],
  ])('reads %j', (text, value, unit, comparator) => {
    const [result] = vitaminDResults(
      [observation('62292-8', undefined, undefined, daysAgo(1), { valueString: text })],
      NOW,
    );
    expect(result).toMatchObject({ reportedValue: value, reportedUnit: unit, comparator });
  });

  it.each(['x', '', '9'.repeat(20), `< ${' '.repeat(100)}5`])('does not read %j', (text) => {
    expect(
      vitaminDResults([observation('62292-8', undefined, undefined, daysAgo(1), { valueString: text })], NOW),
    ).toEqual([]);
  });
});

describe('issue 15 item 11: clinical values that cannot be true', () => {
  it.each([
    '2026-13-45',
    '2026-02-30',
    '2026-02-29',
    '0000-01-01',
    '2026-11-22T24:00:00Z',
    'yesterday',
    'x'.repeat(50),
  ])('%j is not a date', (value) => {
    expect(parseFhirDate(value)).toBeUndefined();
  });

  it.each([
    ['2024-02-29', '2024-02-29'],
    ['2026-03', '2026-03-01'],
    ['0001', '0001-01-01'],
    ['2026-11-22T23:30:00+02:00', '2026-11-22'],
  ])('%j is %s', (value, day) => {
    expect(formatDate(parseFhirDate(value)!)).toBe(day);
  });

  it('an impossible date on a result leaves it out, so the patient is untested', async () => {
    const cards = await runService('vitamin-d-back-pain', {
      resources: [chronicLowBackPain(), vitaminD(40, '2026-13-45')],
    });
    expect(cards[0]?.summary).toMatch(/no vitamin D test/);
  });

  it('results dated more than a day in the future are ignored and counted', () => {
    const results: Observation[] = [
      vitaminD(10, daysAhead(2)),
      vitaminD(40, daysAhead(0.5)),
      vitaminD(12, daysAgo(3)),
    ];
    expect(vitaminDResults(results, NOW).map((result) => result.reportedValue)).toEqual([40, 12]);
    expect(countFutureDatedResults(results, NOW)).toBe(1);
  });

  it.each([
    ['negative', -5],
    ['infinite', Number.POSITIVE_INFINITY],
    ['not a number', Number.NaN],
    ['huge (1e308)', 1e308],
    ['huge (1e22)', 1e22],
    ['huge (exactly 1,000,000)', 1_000_000],
  ])('a %s value is not classified', async (_label, value) => {
    const cards = await runService('vitamin-d-back-pain', {
      resources: [chronicLowBackPain(), vitaminD(value, daysAgo(3))],
    });
    expect(cards[0]?.summary).toMatch(/no vitamin D test/);
  });

  it('an implausible calcium does not withhold the dose, nor reach the card', async () => {
    const cards = await runService('vitamin-d-back-pain', {
      resources: [
        chronicLowBackPain(),
        vitaminD(15, daysAgo(3)),
        observation('17861-6', 1e308, 'mg/dL', daysAgo(10)),
      ],
    });
    expect(cards[0]?.summary).not.toMatch(/no dose/);
    expect(cards[0]?.detail).not.toMatch(/Infinity|e\+/);
  });
});

describe('issue 14: month arithmetic clamps at month ends', () => {
  it.each([
    ['2026-01-31T12:00:00Z', 1, '2026-02-28'],
    ['2024-01-31T12:00:00Z', 1, '2024-02-29'],
    ['2026-03-31T12:00:00Z', -1, '2026-02-28'],
    ['2024-02-29T12:00:00Z', -12, '2023-02-28'],
    ['2026-11-22T12:00:00Z', -12, '2025-11-22'],
    ['2026-05-31T12:00:00Z', -24, '2024-05-31'],
  ])('%s %+i months is %s', (from, months, expected) => {
    expect(formatDate(addMonths(new Date(from), months))).toBe(expected);
  });
});

describe('issue 15 item 3 and issue 12: medication names', () => {
  it('classifies a 1 MB product name without a cache, reading only its start', () => {
    const started = performance.now();
    for (let index = 0; index < 1000; index++) {
      classifyText(`metformin ${'x'.repeat(1_000_000)} ${index}`);
    }
    expect(classifyText(`${'x '.repeat(200)}omeprazole`).has('ppi')).toBe(false);
    expect(classifyText(`omeprazole ${'x '.repeat(200)}`).has('ppi')).toBe(true);
    // Linear and bounded: far below a second for a thousand megabyte names even on a busy machine.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ['Janumet XR 50/1000', 'metformin'],
    ['ActoPlus Met 15/850', 'metformin'],
    ['ActoPlusMet', 'metformin'],
    ['Kombiglyze XR', 'metformin'],
    ['Synjardy', 'metformin'],
    ['Vimovo 500/20', 'ppi'],
    ['Talicia', 'ppi'],
    ['Duexis', 'h2Blocker'],
    ['Axid AR', 'h2Blocker'],
  ])('%s is %s', (name, drug) => {
    expect([...classifyText(name)]).toContain(drug);
  });

  it('Axid is not found inside another word', () => {
    expect(classifyText('Taxidermy').has('h2Blocker')).toBe(false);
  });

  it.each(['1169923', '1043582'])('SMART sample code %s is metformin', (code) => {
    expect(classifyConcept({ coding: [rxnorm(code)] }).has('metformin')).toBe(true);
  });

  const referencing = (reference: string, extra: Partial<MedicationRequest> = {}): MedicationRequest => ({
    resourceType: 'MedicationRequest',
    id: 'ref-1',
    status: 'active',
    intent: 'order',
    subject: { reference: `Patient/${PATIENT_ID}` },
    authoredOn: daysAgo(800),
    medicationReference: { reference },
    ...extra,
  });

  it('resolves Medication/{id}, then contained #id, then the display', () => {
    const medication: Medication = {
      resourceType: 'Medication',
      id: 'med-1',
      code: { coding: [rxnorm('860975')] },
    };
    expect(
      classifyConcept(medicationConcept(referencing('Medication/med-1'), [medication])).has('metformin'),
    ).toBe(true);
    expect(
      classifyConcept(
        medicationConcept(referencing('https://ehr.example/fhir/Medication/med-1'), [medication]),
      ).has('metformin'),
    ).toBe(true);
    const contained = referencing('#c1', {
      contained: [{ resourceType: 'Medication', id: 'c1', code: { text: 'Omeprazole 20 mg' } }],
    });
    expect(classifyConcept(medicationConcept(contained)).has('ppi')).toBe(true);
    const displayOnly = referencing('Medication/unknown', {
      medicationReference: { reference: 'Medication/unknown', display: 'Famotidine 20 mg' },
    });
    expect(classifyConcept(medicationConcept(displayOnly, [medication])).has('h2Blocker')).toBe(true);
  });

  it('a metformin user whose request references a Medication gets the B12 card', () => {
    const medication: Medication = {
      resourceType: 'Medication',
      id: 'med-2',
      code: { coding: [rxnorm('1169923', 'ActoPlus Met')] },
    };
    const findings = evaluateRules(
      ['B12'],
      {
        patientId: PATIENT_ID,
        conditions: [],
        observations: [],
        medicationStatements: [],
        medicationRequests: [referencing('Medication/med-2')],
        serviceRequests: [],
        procedures: [],
        medications: [medication],
      },
      { hook: 'patient-view', now: NOW, draftOrders: [], focusOrders: [] },
      testConfig().clinical,
    );
    expect(findings.map((finding) => finding.situation)).toEqual(['b12-untested']);
  });
});

describe('issue 12: evidence links and partial records', () => {
  it('cards carry their evidence as absolute links with labels', async () => {
    const [card] = await runService('vitamin-d-back-pain', { resources: [chronicLowBackPain()] });
    expect(card?.links?.length).toBeGreaterThan(0);
    for (const link of card?.links ?? []) {
      expect(link.type).toBe('absolute');
      expect(link.url).toMatch(/^https:\/\//);
      expect(link.label.length).toBeGreaterThan(0);
    }
  });

  it('says when the record was read only in part', () => {
    const findings = evaluateRules(
      ['VD'],
      {
        patientId: PATIENT_ID,
        conditions: [chronicLowBackPain()],
        observations: [],
        medicationStatements: [],
        medicationRequests: [],
        serviceRequests: [],
        procedures: [],
        truncated: true,
      },
      { hook: 'patient-view', now: NOW, draftOrders: [], focusOrders: [] },
      testConfig().clinical,
    );
    expect(findings[0]?.notes.map((note) => note.id)).toContain('recordTruncated');
  });
});

describe('names from the EHR in cards (the audit: markup, line breaks and bidi in names)', () => {
  const HOSTILE = '<img src=x onerror=alert(1)> [Click for dosing](https://evil.example/phish) **bold**';
  const LITERAL =
    '&lt;img src=x onerror=alert(1)&gt; [Click for dosing](https://evil.example/phish) **bold**';
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  /** The parts of an example request these tests change. */
  interface Coded {
    text?: string;
    coding: { display?: string }[];
  }
  interface Example {
    prefetch: { conditions: { entry: { resource: { code: Coded } }[] } };
    context: {
      draftOrders: {
        entry: { resource: { resourceType: string; code: Coded; medicationCodeableConcept: Coded } }[];
      };
    };
  }

  async function example(file: string): Promise<Example> {
    const url = new URL(`../../cds-hooks/examples/${file}`, import.meta.url);
    return JSON.parse(await readFile(url, 'utf8')) as Example;
  }

  async function cardsOf(serviceId: string, body: unknown) {
    const response = await app.inject({
      method: 'POST',
      url: `/cds-services/${serviceId}`,
      payload: body as object,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ cards: { summary: string; detail: string }[] }>().cards;
  }

  function withConditionDisplay(body: Example, display: string): Example {
    const code = body.prefetch.conditions.entry[0]!.resource.code;
    code.coding[0]!.display = display;
    delete code.text;
    return body;
  }

  it('a condition name with HTML, a link and emphasis is literal text in the detail', async () => {
    const body = withConditionDisplay(await example('vitamin-d-back-pain.patient-view.json'), HOSTILE);
    const [card] = await cardsOf('vitamin-d-back-pain', body);
    const html = renderGfm(card?.detail ?? '');
    expect(html).not.toMatch(/<img|evil\.example\/phish"|<strong>bold/);
    expect(html).toContain(`<li>${LITERAL} (since`);
  });

  it('a condition name with line breaks, a heading and an RTL override is one plain line', async () => {
    const body = withConditionDisplay(
      await example('vitamin-d-back-pain.patient-view.json'),
      'Back pain\n\n# STOP ALL VITAMIN D\n\u202eesrever',
    );
    const [card] = await cardsOf('vitamin-d-back-pain', body);
    expect(card?.summary).toMatch(/^Back pain # STOP ALL VITAMIN D esrever with vitamin D deficiency/);
    expect(renderGfm(card?.detail ?? '')).not.toMatch(/<h1/);
    expect(card?.detail).toContain('\n- Back pain # STOP ALL VITAMIN D esrever (since');
  });

  it('an ordered drug name is literal text in the detail (order-sign)', async () => {
    const body = await example('b12-drug-risk.order-sign.json');
    body.context.draftOrders.entry[0]!.resource.medicationCodeableConcept.text = `folic acid ${HOSTILE}`;
    const [card] = await cardsOf('b12-drug-risk-order-sign', body);
    const html = renderGfm(card?.detail ?? '');
    expect(html).not.toMatch(/<img|evil\.example\/phish"/);
    expect(html).toContain(`<li>Ordered: folic acid ${LITERAL}</li>`);
  });

  it('an operation name of emoji is cut between whole characters in the summary (order-select)', async () => {
    const body = await example('spine-preop-vitamin-d.order-select.json');
    const order = body.context.draftOrders.entry.find(
      (entry) => entry.resource.resourceType === 'ServiceRequest',
    )!.resource;
    order.code.text = `a${'😀'.repeat(30)}`;
    order.code.coding[0]!.display = order.code.text;
    const [card] = await cardsOf('spine-preop-vitamin-d-order-select', body);
    expect(card?.summary.isWellFormed()).toBe(true);
    expect(card?.summary).toContain(`a${'😀'.repeat(19)}…`);
  });
});
