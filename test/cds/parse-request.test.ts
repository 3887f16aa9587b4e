import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CdsServiceDefinition } from '../../src/catalog/load-catalog.js';
import { MAX_DRAFT_ORDERS, MAX_SELECTIONS, parseRequest } from '../../src/cds/parse-request.js';
import { BadRequestError, PayloadTooLargeError } from '../../src/errors.js';
import type { CdsRequestBody } from '../../src/schemas/wire-schemas.js';
import {
  draftOrders,
  FOLIC_ACID,
  LUMBAR_FUSION,
  medicationRequest,
  OMEPRAZOLE,
  serviceRequest,
} from '../helpers/builders.js';
import { defaultCatalog } from '../helpers/build-app.js';

let vitaminDBackPain: CdsServiceDefinition;
let b12DrugRisk: CdsServiceDefinition;
beforeAll(async () => {
  const { services } = await defaultCatalog();
  vitaminDBackPain = services.get('vitamin-d-back-pain')!;
  b12DrugRisk = services.get('b12-drug-risk')!;
});

function request(hook: string, context: Record<string, unknown> = {}): CdsRequestBody {
  return {
    hook,
    hookInstance: 'c0ffee00-0000-4000-8000-000000000001',
    context: { userId: 'Practitioner/dr-1', patientId: 'pt-1', ...context },
  };
}

/** `count` draft MedicationRequests with ids d0, d1, … (type and id only: the step reads nothing else). */
function bareDrafts(count: number): Resource[] {
  return Array.from({ length: count }, (_, index) => ({
    resourceType: 'MedicationRequest',
    id: `d${index}`,
  })) as Resource[];
}

/** The error a step throws, for assertions on its class, status and message. */
function thrown(step: () => unknown): unknown {
  try {
    step();
  } catch (error) {
    return error;
  }
  throw new Error('expected the step to throw');
}

describe('parseRequest: what it returns', () => {
  it('patient-view: the patient, the hook and no orders', () => {
    expect(parseRequest(vitaminDBackPain, request('patient-view'))).toEqual({
      hook: 'patient-view',
      serviceId: 'vitamin-d-back-pain',
      patientId: 'pt-1',
      draftOrders: [],
      focusOrders: [],
    });
  });

  it('names the discovery id of the hook, also when the service id was called', () => {
    const drafts = draftOrders(medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' }));
    expect(parseRequest(b12DrugRisk, request('order-sign', { draftOrders: drafts })).serviceId).toBe(
      'b12-drug-risk-order-sign',
    );
    expect(
      parseRequest(b12DrugRisk, request('order-select', { draftOrders: drafts, selections: [] })).serviceId,
    ).toBe('b12-drug-risk-order-select');
  });

  it('order-sign: every draft order is in focus', () => {
    const folicAcid = medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' });
    const omeprazole = medicationRequest(OMEPRAZOLE, { status: 'draft', id: 'ppi-1' });
    const parsed = parseRequest(
      b12DrugRisk,
      request('order-sign', { draftOrders: draftOrders(folicAcid, omeprazole) }),
    );
    expect(parsed.draftOrders).toEqual([folicAcid, omeprazole]);
    expect(parsed.focusOrders).toEqual([folicAcid, omeprazole]);
  });

  it('order-select: only the selected drafts are in focus, in the order selected', () => {
    const [first, second, third] = bareDrafts(3) as [Resource, Resource, Resource];
    const parsed = parseRequest(
      b12DrugRisk,
      request('order-select', {
        draftOrders: draftOrders(first, second, third),
        selections: ['MedicationRequest/d2', 'MedicationRequest/d0'],
      }),
    );
    expect(parsed.draftOrders).toEqual([first, second, third]);
    expect(parsed.focusOrders).toEqual([third, first]);
  });

  it('order-select with nothing drafted yet (the Sandbox opening its Rx View) is no error', () => {
    const parsed = parseRequest(
      b12DrugRisk,
      request('order-select', { draftOrders: draftOrders(), selections: [] }),
    );
    expect(parsed.focusOrders).toEqual([]);
  });

  it('takes a draft order without a status, which EHRs often send', () => {
    const drafts = draftOrders({
      resourceType: 'ServiceRequest',
      id: 'fusion-1',
      code: { coding: [LUMBAR_FUSION] },
    } as Resource);
    expect(
      parseRequest(b12DrugRisk, request('order-sign', { draftOrders: drafts })).draftOrders,
    ).toHaveLength(1);
  });
});

describe('parseRequest: 400 for a request that does not fit the service or the hook', () => {
  it.each(['order-sign', 'order-select', 'encounter-discharge'])(
    'vitamin-d-back-pain does not serve %s',
    (hook) => {
      const error = thrown(() => parseRequest(vitaminDBackPain, request(hook)));
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error).toMatchObject({
        statusCode: 400,
        message: `Service "vitamin-d-back-pain" does not serve hook "${hook}"; it serves patient-view`,
      });
    },
  );

  it('a hook that is not a name is not repeated in the message (messages are logged)', () => {
    const error = thrown(() => parseRequest(vitaminDBackPain, request('Jane Doe 1961-02-03')));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toContain('(a value that is not a valid name)');
    expect((error as Error).message).not.toContain('Jane');
  });

  it('a context that does not fit the hook names the field', () => {
    const error = thrown(() =>
      parseRequest(vitaminDBackPain, { ...request('patient-view'), context: { userId: 'Practitioner/1' } }),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toMatch(/^Invalid context for patient-view: .*context\.patientId/);
  });

  it('order-select without draftOrders (a client re-firing it) says what is missing', () => {
    const error = thrown(() =>
      parseRequest(b12DrugRisk, request('order-select', { selections: ['MedicationRequest/d0'] })),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toMatch(/^context\.draftOrders is required for order-select/);
  });

  it('a selection not among the drafts is named', () => {
    const error = thrown(() =>
      parseRequest(
        b12DrugRisk,
        request('order-select', {
          draftOrders: draftOrders(...bareDrafts(3)),
          selections: ['MedicationRequest/d1', 'MedicationRequest/nowhere'],
        }),
      ),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toBe(
      'context.selections[1] ("MedicationRequest/nowhere") is not among context.draftOrders',
    );
  });

  it('a draft order of a known type with a field of the wrong shape is named by its index', () => {
    const drafts = draftOrders(
      medicationRequest(FOLIC_ACID, { status: 'draft', id: 'folic-1' }),
      serviceRequest(LUMBAR_FUSION, { status: 'draft', id: 'fusion-1' }),
      { resourceType: 'ServiceRequest', id: 'x', code: 'fusion' } as unknown as Resource,
    );
    const error = thrown(() => parseRequest(b12DrugRisk, request('order-sign', { draftOrders: drafts })));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toMatch(
      /^context\.draftOrders\.entry\[2\]\.resource \("ServiceRequest"\) is not valid: code/,
    );
  });
});

describe('parseRequest: 413 over the size limits (issue 15 item 2)', () => {
  it(`takes ${MAX_DRAFT_ORDERS} drafts and ${MAX_SELECTIONS} selections`, () => {
    const drafts = bareDrafts(MAX_DRAFT_ORDERS);
    const parsed = parseRequest(
      b12DrugRisk,
      request('order-select', {
        draftOrders: draftOrders(...drafts),
        selections: drafts.map((draft) => `MedicationRequest/${draft.id ?? ''}`),
      }),
    );
    expect(parsed.focusOrders).toHaveLength(MAX_SELECTIONS);
  });

  it('one draft more is a 413 naming the limit', () => {
    const error = thrown(() =>
      parseRequest(
        b12DrugRisk,
        request('order-sign', { draftOrders: draftOrders(...bareDrafts(MAX_DRAFT_ORDERS + 1)) }),
      ),
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({
      statusCode: 413,
      message: `context.draftOrders has ${MAX_DRAFT_ORDERS + 1} entries; at most ${MAX_DRAFT_ORDERS} are accepted`,
    });
  });

  it('one selection more is a 413 naming the limit, before any selection is looked up', () => {
    // None of these selections is among the drafts: the size is refused first, not the first unknown one.
    const error = thrown(() =>
      parseRequest(
        b12DrugRisk,
        request('order-select', {
          draftOrders: draftOrders(...bareDrafts(1)),
          selections: Array.from({ length: MAX_SELECTIONS + 1 }, () => 'MedicationRequest/x'),
        }),
      ),
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({
      statusCode: 413,
      message: `context.selections has ${MAX_SELECTIONS + 1} items; at most ${MAX_SELECTIONS} are accepted`,
    });
  });

  it('the limits apply to the hook that carries them, before its schema is checked', () => {
    // order-sign has no selections in its schema, but an oversized array is still refused, not parsed.
    const error = thrown(() =>
      parseRequest(
        b12DrugRisk,
        request('order-sign', {
          draftOrders: draftOrders(),
          selections: Array.from({ length: MAX_SELECTIONS + 1 }, () => 'MedicationRequest/x'),
        }),
      ),
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });
});
