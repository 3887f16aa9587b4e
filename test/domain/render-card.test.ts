import { describe, expect, it } from 'vitest';
import { SITUATION_IDS } from '../../src/domain/card-and-order-schemas.js';
import { createOrderLookup } from '../../src/domain/existing-orders.js';
import type { Finding } from '../../src/domain/findings.js';
import { renderCard } from '../../src/domain/render-card.js';
import { NOW } from '../helpers/builders.js';
import { defaultCatalog } from '../helpers/build-app.js';
import { cardProblems } from '../helpers/card-validator.js';
import { renderGfm } from '../helpers/markdown.js';

/** The longest value each summary placeholder can take, given how the rules build them. */
const WORST_CASE_VARS: Record<string, string> = {
  condition: `${'Lumbosacral radiculopathy with disc prolapse'.slice(0, 40)}…`,
  // Change 12: the value as reported, converted in brackets (a total B12 in pmol/L is the longest).
  value: '<258.5 pmol/L (<350.3 pg/mL)',
  date: '2026-10-01',
  target: '30',
  windowMonths: '36',
  windowDays: '180',
  therapyWeeks: '104',
  procedure: 'Fusion of lumbosacral region of spine by… on 2026-12-15',
  exposure: 'Long-term metformin, PPI and H2 blocker use',
  reason: 'primary hyperparathyroidism',
  drug: 'Sitagliptin 50 MG / metformin hydrochloride…',
  symptom: 'cramps or spasm, neuropathy and more',
};

async function render(finding: Finding) {
  const catalog = await defaultCatalog();
  return renderCard(finding, {
    cards: catalog.cards,
    orders: catalog.orders,
    lookup: createOrderLookup(
      catalog.orders,
      {
        patientId: 'p',
        conditions: [],
        observations: [],
        medicationStatements: [],
        medicationRequests: [],
        serviceRequests: [],
        procedures: [],
      },
      [],
    ),
    serviceId: 'vitamin-d-back-pain',
    serviceTitle: 'Vitamin D in chronic back or neck pain',
    hookInstance: 'h-1',
    patientId: 'p',
    patientKey: 'key-of-p',
    now: NOW,
  });
}

function vdFinding(overrides: Partial<Finding>): Finding {
  return {
    ruleId: 'VD',
    situation: 'vd-deficient',
    indicator: 'warning',
    vars: { condition: 'Chronic low back pain', value: '14 ng/mL', date: '2026-10-01' },
    facts: ['Chronic low back pain (since 2025-01-01)'],
    threshold: 'Deficiency below 20 ng/mL.',
    notes: [],
    suggestions: [{ kind: 'lab', lab: 'vitaminD', recommended: true }],
    selectionBehavior: 'at-most-one',
    ...overrides,
  };
}

describe('text from the EHR in a card', () => {
  const HOSTILE = '<img src=x onerror=alert(1)> [Click for dosing](https://evil.example/phish) **bold**';
  const MULTILINE = 'Back pain\n\n# STOP ALL VITAMIN D\n\u202eesrever';

  it('reaches the detail as literal text; our own links and bold labels still render', async () => {
    const card = await render(
      vdFinding({
        vars: { condition: HOSTILE, value: '14 ng/mL', date: '2026-10-01' },
        facts: [`${HOSTILE} (since 2025-01-01)`, MULTILINE, '25-hydroxyvitamin D: <8 ng/mL on 2026-10-01'],
        threshold: `Deficiency below 20 ng/mL; ${HOSTILE}`,
        notes: [{ id: 'currentVitaminD', vars: { product: MULTILINE, since: HOSTILE } }],
      }),
    );
    const html = renderGfm(card?.detail ?? '');
    expect(html).not.toMatch(/<img|<h\d|<em>|<table|<code|<br|<blockquote|<ol/);
    expect([...html.matchAll(/<a href="([^"]*)"/g)].map((match) => match[1])).toEqual([
      'https://doi.org/10.7812/TPP/18.241',
      'https://doi.org/10.1155/2013/471695',
      'https://doi.org/10.1210/clinem/dgae290',
    ]);
    expect([...html.matchAll(/<strong>(.*?)<\/strong>/g)].map((match) => match[1])).toEqual([
      'Facts used',
      'Threshold applied:',
      'Evidence',
    ]);
    const literal =
      '&lt;img src=x onerror=alert(1)&gt; [Click for dosing](https://evil.example/phish) **bold**';
    expect(html).toContain(`<li>${literal} (since 2025-01-01)</li>`);
    expect(html).toContain('<li>Back pain # STOP ALL VITAMIN D esrever</li>');
    expect(html).toContain('<li>25-hydroxyvitamin D: &lt;8 ng/mL on 2026-10-01</li>');
    expect(html).toContain(`Deficiency below 20 ng/mL; ${literal}</p>`);
    expect(html).toContain(`already takes Back pain # STOP ALL VITAMIN D esrever (${literal})`);
  });

  it('reaches the summary as one line of plain text', async () => {
    const card = await render(
      vdFinding({ vars: { condition: MULTILINE, value: '14\u2028ng/mL', date: '\u20662026-10-01\u2069' } }),
    );
    expect(card?.summary).toBe(
      'Back pain # STOP ALL VITAMIN D esrever with vitamin D deficiency, 14 ng/mL on 2026-10-01: consider repletion',
    );
    expect(cardProblems(card)).toEqual([]);
  });

  it('is cut between whole characters when the summary is too long', async () => {
    const card = await render(vdFinding({ vars: { condition: `a${'😀'.repeat(80)}` } }));
    expect(card?.summary.length).toBeLessThan(140);
    expect(card?.summary.isWellFormed()).toBe(true);
    expect(card?.summary).toMatch(/😀…$/u);
    expect(cardProblems(card)).toEqual([]);
  });
});

describe('card summaries', () => {
  it.each(SITUATION_IDS)(
    '%s stays under 140 characters with the longest values, untruncated (and its tests-only summary)',
    async (situation) => {
      const catalog = await defaultCatalog();
      const { summary, summaryTestsOnly } = catalog.cards.situations[situation];
      for (const template of [summary, ...(summaryTestsOnly ? [summaryTestsOnly] : [])]) {
        const filled = template.replace(
          /\{(\w+)\}/g,
          (_match, name: string) => WORST_CASE_VARS[name] ?? `{${name}}`,
        );
        expect(filled).not.toMatch(/\{\w+\}/);
        expect(filled.length).toBeLessThan(140);
      }
    },
  );

  it('fills placeholders and passes the card rules', async () => {
    const finding: Finding = {
      ruleId: 'VD',
      situation: 'vd-untested',
      indicator: 'info',
      vars: { condition: 'Chronic low back pain', windowMonths: '12' },
      facts: ['Chronic low back pain (since 2025-01-01)'],
      threshold: 'No result in 12 months.',
      notes: [],
      suggestions: [{ kind: 'lab', lab: 'vitaminD', recommended: true }],
      selectionBehavior: 'at-most-one',
    };
    const card = await render(finding);
    expect(card?.summary).toBe(
      'Chronic low back pain and no vitamin D test in 12 months: consider a 25(OH)D level',
    );
    expect(cardProblems(card)).toEqual([]);
  });
});
