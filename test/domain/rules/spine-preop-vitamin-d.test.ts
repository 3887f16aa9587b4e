import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  chronicLowBackPain,
  cpt,
  daysAgo,
  daysAhead,
  LUMBAR_FUSION,
  monthsAgo,
  METFORMIN,
  medicationRequest,
  procedure,
  serviceRequest,
  snomed,
  VITAMIN_D_ORDER,
  vitaminD,
  vitaminDNmol,
} from '../../helpers/builders.js';
import { runService, suggestedCodes, suggestedResources } from '../../helpers/build-app.js';

const SERVICE = 'spine-preop-vitamin-d';
const plannedFusion = (extra: Partial<Parameters<typeof serviceRequest>[1]> = {}) =>
  serviceRequest(LUMBAR_FUSION, { status: 'active', occurrence: daysAhead(30), id: 'fusion-1', ...extra });

describe('rule SP: vitamin D before spine surgery, patient-view', () => {
  const run = (resources: Resource[]) => runService(SERVICE, { resources });

  const rows: {
    name: string;
    resources: Resource[];
    situation: 'untested' | 'below' | 'deficient' | 'recheck' | null;
  }[] = [
    { name: 'planned fusion, no result at all', resources: [plannedFusion()], situation: 'untested' },
    {
      name: 'change 10: normal result 91 days ago (outside 90) asks for a recheck (info)',
      resources: [plannedFusion(), vitaminD(40, daysAgo(91))],
      situation: 'recheck',
    },
    {
      name: 'change 10: low result 91 days ago stays a warning',
      resources: [plannedFusion(), vitaminD(25, daysAgo(91))],
      situation: 'untested',
    },
    {
      name: 'change 10: normal result just over 12 months ago stays a warning',
      resources: [plannedFusion(), vitaminD(40, monthsAgo(12, 1))],
      situation: 'untested',
    },
    {
      name: 'change 10: normal result just inside 12 months asks for a recheck',
      resources: [plannedFusion(), vitaminD(40, monthsAgo(12, -1))],
      situation: 'recheck',
    },
    {
      name: 'change 10: a doNotPerform spine order is not planned',
      resources: [{ ...plannedFusion(), doNotPerform: true }],
      situation: null,
    },
    {
      name: 'change 10: an operation dated 8 days ago is not planned',
      resources: [plannedFusion({ occurrence: daysAgo(8) })],
      situation: null,
    },
    {
      name: 'change 10: an operation dated 6 days ago is still planned',
      resources: [plannedFusion({ occurrence: daysAgo(6) })],
      situation: 'untested',
    },
    {
      name: 'planned fusion, normal result 89 days ago (inside 90)',
      resources: [plannedFusion(), vitaminD(40, daysAgo(89))],
      situation: null,
    },
    {
      name: 'planned fusion, exactly 30 ng/mL',
      resources: [plannedFusion(), vitaminD(30, daysAgo(10))],
      situation: null,
    },
    {
      name: 'planned fusion, 29.9 ng/mL',
      resources: [plannedFusion(), vitaminD(29.9, daysAgo(10))],
      situation: 'below',
    },
    {
      name: 'planned fusion, 20 ng/mL',
      resources: [plannedFusion(), vitaminD(20, daysAgo(10))],
      situation: 'below',
    },
    {
      name: 'planned fusion, 19.9 ng/mL',
      resources: [plannedFusion(), vitaminD(19.9, daysAgo(10))],
      situation: 'deficient',
    },
    {
      name: 'planned fusion, 60 nmol/L (24 ng/mL)',
      resources: [plannedFusion(), vitaminDNmol(60, daysAgo(10))],
      situation: 'below',
    },
    {
      name: 'planned fusion, 80 nmol/L (32 ng/mL)',
      resources: [plannedFusion(), vitaminDNmol(80, daysAgo(10))],
      situation: null,
    },
    {
      name: 'draft ServiceRequest counts as planned',
      resources: [plannedFusion({ status: 'draft' })],
      situation: 'untested',
    },
    {
      name: 'on-hold ServiceRequest counts as planned',
      resources: [plannedFusion({ status: 'on-hold' })],
      situation: 'untested',
    },
    {
      name: 'revoked ServiceRequest is not planned',
      resources: [plannedFusion({ status: 'revoked' })],
      situation: null,
    },
    {
      name: 'completed ServiceRequest is not planned',
      resources: [plannedFusion({ status: 'completed' })],
      situation: null,
    },
    {
      name: 'Procedure in preparation is planned',
      resources: [procedure(snomed('387731002', 'Laminectomy'), { status: 'preparation' })],
      situation: 'untested',
    },
    {
      name: 'completed Procedure is not planned',
      resources: [procedure(LUMBAR_FUSION, { status: 'completed', performed: daysAgo(20) })],
      situation: null,
    },
    {
      name: 'CPT 22612 lumbar arthrodesis',
      resources: [serviceRequest(cpt('22612', 'Lumbar arthrodesis'), { status: 'active' })],
      situation: 'untested',
    },
    {
      name: 'CPT 63047 in the decompression range',
      resources: [serviceRequest(cpt('63047'), { status: 'active' })],
      situation: 'untested',
    },
    {
      name: 'CPT 27447 knee arthroplasty is not spine',
      resources: [serviceRequest(cpt('27447'), { status: 'active' })],
      situation: null,
    },
    {
      name: 'no surgery planned',
      resources: [chronicLowBackPain(), vitaminD(10, daysAgo(5))],
      situation: null,
    },
  ];

  it.each(rows)('$name', async ({ resources, situation }) => {
    const cards = await run(resources);
    if (!situation) {
      expect(cards).toEqual([]);
      return;
    }
    expect(cards).toHaveLength(1);
    const card = cards[0]!;
    expect(card.indicator).toBe(situation === 'recheck' ? 'info' : 'warning');
    expect(card.source.topic.code).toBe('SP');
    if (situation === 'recheck') {
      expect(card.summary).toMatch(/^Lumbar spinal fusion on [\d-]+ planned .*: recheck before surgery$/);
      expect(suggestedCodes(card)).toEqual(['ServiceRequest 62292-8']);
    } else if (situation === 'untested') {
      expect(card.summary).toMatch(/no vitamin D result in 90 days/);
      expect(suggestedCodes(card)).toEqual(['ServiceRequest 62292-8']);
    } else {
      expect(card.summary).toMatch(
        situation === 'deficient' ? /deficient/ : /under 30 ng\/mL before Lumbar spinal fusion/,
      );
      expect(suggestedCodes(card)).toContain('MedicationRequest 1367410');
      expect(suggestedCodes(card)).toContain('ServiceRequest 62292-8');
    }
  });

  it('names the planned procedure and its date', async () => {
    const [card] = await run([plannedFusion({ occurrence: '2026-12-15' })]);
    expect(card?.summary).toContain('Lumbar spinal fusion on 2026-12-15 planned');
    expect(card?.detail).toContain('Planned: Lumbar spinal fusion on 2026-12-15');
  });

  it('counts the days left to the operation in calendar days, as its date reads', async () => {
    // NOW is 2026-11-22 at noon: 12 December is 20 days away (19.5 days of elapsed time).
    const [card] = await run([plannedFusion({ occurrence: '2026-12-12' }), vitaminD(24, daysAgo(10))]);
    expect(card?.detail).toContain('Planned: Lumbar spinal fusion on 2026-12-12 (20 days from now)');
    expect(card?.detail).toContain('20 days remain until the operation.');
  });

  it.each([
    ['a morning operation east of UTC (the 11th in UTC)', '2026-12-12T08:00:00+09:00'],
    ['an evening operation west of UTC (the 13th in UTC)', '2026-12-12T20:00:00-05:00'],
  ])('%s: shown, counted and rechecked by the day the record writes', async (_name, occurrence) => {
    const [card] = await run([plannedFusion({ occurrence }), vitaminD(24, daysAgo(10))]);
    expect(card?.summary).toContain('on 2026-12-12');
    expect(card?.detail).toContain('Planned: Lumbar spinal fusion on 2026-12-12 (20 days from now)');
    expect(
      suggestedResources(card!).find((resource) => resource['resourceType'] === 'ServiceRequest'),
    ).toMatchObject({
      occurrenceDateTime: '2026-12-05',
    });
  });

  it('counts the days from today where the operation takes place, when its time carries a zone', async () => {
    // NOW, noon UTC on 22 November, is already 01:00 on the 23rd in New Zealand (+13:00).
    const [card] = await run([
      plannedFusion({ occurrence: '2026-11-25T09:00:00+13:00' }),
      vitaminD(24, daysAgo(10)),
    ]);
    expect(card?.detail).toContain('Planned: Lumbar spinal fusion on 2026-11-25 (2 days from now)');
  });

  it('an operation dated only to the month is not counted down to its first day', async () => {
    const [card] = await run([plannedFusion({ occurrence: '2026-12' }), vitaminD(24, daysAgo(10))]);
    expect(card?.detail).toContain('Planned: Lumbar spinal fusion');
    expect(card?.detail).not.toContain('2026-12-01');
    expect(card?.detail).not.toMatch(/days (from now|remain)/);
  });

  it("ties the lab order to the surgery's reason condition", async () => {
    const [card] = await run([plannedFusion({ reasonConditionId: 'stenosis-1' })]);
    expect(suggestedResources(card!)[0]).toMatchObject({
      reasonReference: [{ reference: 'Condition/stenosis-1' }],
    });
  });

  it('does not suggest a 25(OH)D test already ordered', async () => {
    const cards = await run([plannedFusion(), serviceRequest(VITAMIN_D_ORDER, { status: 'active' })]);
    expect(cards).toEqual([]);
  });
});

describe('rule SP in order hooks', () => {
  const fusionOrder = serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'new-fusion' });
  const otherOrder = medicationRequest(METFORMIN, { status: 'draft', id: 'met-1' });

  it('order-select: a selected spine surgery order without a recent result gets a card naming it', async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-select',
      draftOrders: [fusionOrder, otherOrder],
      selections: ['ServiceRequest/new-fusion'],
    });
    expect(cards).toHaveLength(1);
    expect(cards[0]?.summary).toMatch(/^Lumbar spinal fusion planned/);
    expect(cards[0]?.detail).toContain('Ordered: Lumbar spinal fusion');
  });

  it('order-select: only the selections count', async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-select',
      draftOrders: [fusionOrder, otherOrder],
      selections: ['MedicationRequest/met-1'],
    });
    expect(cards).toEqual([]);
  });

  it('order-select: a recent adequate result keeps it quiet', async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-select',
      resources: [vitaminD(45, daysAgo(30))],
      draftOrders: [fusionOrder],
    });
    expect(cards).toEqual([]);
  });

  it.each([
    ['a ServiceRequest', 'revoked'],
    ['a ServiceRequest', 'completed'],
    ['a Procedure', 'not-done'],
    ['a Procedure', 'stopped'],
    ['a Procedure', 'entered-in-error'],
  ] as const)('order-sign: %s draft that is %s is not an operation to prepare for', async (kind, status) => {
    const draft =
      kind === 'a Procedure'
        ? procedure(LUMBAR_FUSION, { status, id: 'proc-1' })
        : serviceRequest(LUMBAR_FUSION, { status, id: 'sr-1' });
    const cards = await runService(SERVICE, { hook: 'order-sign', draftOrders: [draft] });
    expect(cards).toEqual([]);
  });

  it('order-sign: a spine surgery order among the drafts with a low result', async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [vitaminD(17, daysAgo(30))],
      draftOrders: [otherOrder, fusionOrder],
    });
    expect(cards).toHaveLength(1);
    expect(cards[0]?.summary).toMatch(/deficient/);
  });

  it('order-sign: no card when the 25(OH)D order is already among the drafts', async () => {
    const labOrder = serviceRequest(VITAMIN_D_ORDER, { status: 'draft', id: 'lab-1' });
    const cards = await runService(SERVICE, { hook: 'order-sign', draftOrders: [fusionOrder, labOrder] });
    expect(cards).toEqual([]);
  });

  it("order-sign: a planned surgery on record is not this hook's business", async () => {
    const cards = await runService(SERVICE, {
      hook: 'order-sign',
      resources: [plannedFusion()],
      draftOrders: [otherOrder],
    });
    expect(cards).toEqual([]);
  });
});
