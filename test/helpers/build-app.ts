import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createLogLeakCheck } from './log-leak-check.js';
import { expect } from 'vitest';
import { type AppDeps, buildApp } from '../../src/app.js';
import { callService } from '../../src/cds/call-service.js';
import { type Catalog, loadCatalog } from '../../src/catalog/load-catalog.js';
import { type Config, loadConfig } from '../../src/config.js';
import { type FeedbackService, openFeedbackService } from '../../src/feedback/feedback-service.js';
import type { CdsCardOut } from '../../src/domain/findings.js';
import type { CdsRequestBody } from '../../src/schemas/wire-schemas.js';
import { chronicLowBackPain, NOW, patient, PATIENT_ID } from './builders.js';
import { responseProblems } from './card-validator.js';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', FEEDBACK_SQLITE_FILE: ':memory:', ...env });
}

let feedbackPromise: Promise<FeedbackService> | undefined;
/** An in-memory feedback store for calls made without an app. */
function sharedFeedback(): Promise<FeedbackService> {
  feedbackPromise ??= openFeedbackService(testConfig(), pino({ level: 'silent' }));
  return feedbackPromise;
}

let catalogPromise: Promise<Catalog> | undefined;
export function defaultCatalog(): Promise<Catalog> {
  catalogPromise ??= loadCatalog(testConfig().catalog);
  return catalogPromise;
}

/**
 * The app as tests use it. Every successful service response it sends goes through the spec card validator,
 * so no test can produce an invalid card unnoticed.
 */
export async function buildTestApp(
  options: { env?: Record<string, string>; now?: Date; catalog?: Catalog; deps?: Partial<AppDeps> } = {},
): Promise<FastifyInstance> {
  const config = testConfig(options.env);
  const logs = createLogLeakCheck();
  const app = await buildApp({
    config,
    catalog: options.catalog ?? (await defaultCatalog()),
    now: () => options.now ?? NOW,
    loggerInstance: logs.logger,
    ...options.deps,
  });
  app.addHook('preValidation', async (request) => {
    logs.collectSecrets(request.id, request.headers.authorization, request.body);
  });
  app.addHook('onClose', async () => {
    logs.assertNoLeak();
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const isServiceCall = request.method === 'POST' && /^\/cds-services\/[^/]+$/.test(request.url);
    if (reply.statusCode === 200 && isServiceCall && typeof payload === 'string') {
      const problems = responseProblems(JSON.parse(payload));
      if (problems.length > 0) {
        throw new Error(`invalid CDS response: ${problems.join('; ')}`);
      }
    }
    return payload;
  });
  return app;
}

/** The prefetch key each resource type lands in, as an EHR would fill the service's templates. */
const KEY_OF_TYPE: Record<string, string[]> = {
  Patient: ['patient'],
  Condition: ['conditions'],
  Observation: ['vitaminD', 'b12', 'calcium'],
  MedicationStatement: ['medicationStatements'],
  MedicationRequest: ['medicationRequests'],
  ServiceRequest: ['serviceRequests'],
  Procedure: ['procedures'],
  // In each lab key's Bundle, as `_revinclude=DiagnosticReport:result` would put them.
  DiagnosticReport: ['vitaminD', 'b12', 'calcium'],
};

/**
 * An Observation goes to the key whose template searches its code, as an EHR's search would; one whose code
 * no template names goes to every Observation key.
 */
function observationFitsTemplate(
  resource: Resource,
  template: string,
  templates: Readonly<Record<string, string>>,
): boolean {
  if (resource.resourceType !== 'Observation') {
    return true;
  }
  const codes = (resource.code.coding ?? []).map((coding) => `|${coding.code ?? ''}`);
  const searched = (text: string) => codes.some((code) => text.includes(code));
  return searched(template) || !Object.values(templates).some(searched);
}

/** Complete prefetch for a service from a patient's resources (every key filled, empty ones as empty Bundles). */
export function prefetchFor(
  templates: Readonly<Record<string, string>>,
  resources: readonly Resource[],
  patientId = PATIENT_ID,
) {
  const prefetch: Record<string, unknown> = {};
  for (const key of Object.keys(templates)) {
    if (key === 'patient') {
      prefetch[key] = resources.find((resource) => resource.resourceType === 'Patient') ?? {
        resourceType: 'Patient',
        id: patientId,
      };
      continue;
    }
    const entries = resources
      .filter(
        (resource) =>
          KEY_OF_TYPE[resource.resourceType]?.includes(key) &&
          observationFitsTemplate(resource, templates[key] ?? '', templates),
      )
      .map((resource) => ({ resource }));
    prefetch[key] = { resourceType: 'Bundle', type: 'searchset', entry: entries };
  }
  return prefetch;
}

export interface Scenario {
  hook?: 'patient-view' | 'order-select' | 'order-sign';
  resources?: readonly Resource[];
  draftOrders?: readonly Resource[];
  selections?: readonly string[];
  now?: Date;
  config?: Config;
  patientId?: string;
}

/** Runs one service on a scenario through the same code path as the route, and checks every card. */
export async function runService(serviceId: string, scenario: Scenario): Promise<CdsCardOut[]> {
  const catalog = await defaultCatalog();
  const service = catalog.services.get(serviceId);
  if (!service) {
    throw new Error(`no service ${serviceId}`);
  }
  const hook = scenario.hook ?? 'patient-view';
  const patientId = scenario.patientId ?? PATIENT_ID;
  const drafts = scenario.draftOrders ?? [];
  const context: Record<string, unknown> = { userId: 'Practitioner/dr-1', patientId };
  if (hook !== 'patient-view') {
    context['draftOrders'] = { resourceType: 'Bundle', entry: drafts.map((resource) => ({ resource })) };
  }
  if (hook === 'order-select') {
    context['selections'] =
      scenario.selections ?? drafts.map((resource) => `${resource.resourceType}/${resource.id ?? ''}`);
  }
  const request: CdsRequestBody = {
    hook,
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    context,
    prefetch: prefetchFor(service.prefetch, scenario.resources ?? [], patientId),
  };
  const { cards } = await callService(
    service,
    request,
    {
      catalog,
      config: scenario.config ?? testConfig(),
      now: () => scenario.now ?? NOW,
      feedback: await sharedFeedback(),
    },
    pino({ level: 'silent' }),
  );
  expect(responseProblems({ cards })).toEqual([]);
  return cards;
}

/** The resources a card's suggestions would create. */
export function suggestedResources(card: CdsCardOut): Record<string, unknown>[] {
  return (card.suggestions ?? []).flatMap((suggestion) =>
    suggestion.actions.flatMap((action) =>
      'resource' in action ? [action.resource as unknown as Record<string, unknown>] : [],
    ),
  );
}

/** "ServiceRequest 62292-8", "MedicationRequest 1367410": what a card offers to order, in short. */
export function suggestedCodes(card: CdsCardOut): string[] {
  return suggestedResources(card).map((resource) => {
    const concept = (resource['code'] ?? resource['medicationCodeableConcept']) as {
      coding: { code: string }[];
    };
    return `${String(resource['resourceType'])} ${concept.coding[0]?.code ?? ''}`;
  });
}

/** A patient-view call to vitamin-d-back-pain for a patient with chronic back pain and no vitamin D result. */
export async function viewBackPainPatient(app: FastifyInstance, patientId: string) {
  const templates = (await defaultCatalog()).services.get('vitamin-d-back-pain')!.prefetch;
  const response = await app.inject({
    method: 'POST',
    url: '/cds-services/vitamin-d-back-pain',
    payload: {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      context: { userId: 'Practitioner/1', patientId },
      prefetch: prefetchFor(templates, [patient(patientId), chronicLowBackPain({ patientId })], patientId),
    },
  });
  expect(response.statusCode).toBe(200);
  return response.json<{ cards: { uuid: string; suggestions: { uuid: string }[] }[] }>().cards;
}
