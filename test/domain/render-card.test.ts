import { describe, expect, it } from 'vitest';
import { SITUATION_IDS } from '../../src/domain/card-and-order-schemas.js';
import { createOrderLookup } from '../../src/domain/existing-orders.js';
import type { Finding } from '../../src/domain/findings.js';
import { renderCard } from '../../src/domain/render-card.js';
import { NOW } from '../helpers/builders.js';
import { defaultCatalog } from '../helpers/build-app.js';
import { cardProblems } from '../helpers/card-validator.js';

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

describe('card summaries', () => {
  it.each(SITUATION_IDS)(
    '%s stays under 140 characters with the longest values, untruncated',
    async (situation) => {
      const catalog = await defaultCatalog();
      const template = catalog.cards.situations[situation].summary;
      const filled = template.replace(
        /\{(\w+)\}/g,
        (_match, name: string) => WORST_CASE_VARS[name] ?? `{${name}}`,
      );
      expect(filled).not.toMatch(/\{\w+\}/);
      expect(filled.length).toBeLessThan(140);
    },
  );

  it('fills placeholders and passes the card rules', async () => {
    const catalog = await defaultCatalog();
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
    const card = renderCard(finding, {
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
    expect(card?.summary).toBe(
      'Chronic low back pain and no vitamin D test in 12 months: consider a 25(OH)D level',
    );
    expect(cardProblems(card)).toEqual([]);
  });
});
