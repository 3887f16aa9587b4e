import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  type CardCatalog,
  CardCatalogSchema,
  type OrderCatalog,
  OrderCatalogSchema,
  RULE_IDS,
  type RuleId,
} from '../domain/card-and-order-schemas.js';
import { RULES } from '../domain/evaluate.js';
import { HOOK_NAMES, type HookName } from '../domain/hooks.js';

/** Prefetch tokens CDS Hooks 2.0 allows: root-level primitive context fields and the user tokens. */
const ALLOWED_TOKENS = new Set([
  'context.patientId',
  'context.userId',
  'context.encounterId',
  'userPractitionerId',
  'userPractitionerRoleId',
  'userPatientId',
  'userRelatedPersonId',
]);

const PrefetchTemplateSchema = z
  .string()
  .regex(/^[A-Z][A-Za-z]+(\/|\?|$)/, 'must be a relative FHIR read or search, e.g. "Observation?patient=..."')
  .superRefine((template, context) => {
    for (const match of template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!ALLOWED_TOKENS.has(match[1] ?? '')) {
        context.addIssue({
          code: 'custom',
          message: `token {{${match[1] ?? ''}}} is not a CDS Hooks 2.0 prefetch token`,
        });
      }
    }
    if (/_sort=\w*:|sort:desc/.test(template)) {
      context.addIssue({ code: 'custom', message: 'use _sort=-field, not sort:desc' });
    }
  });

const ServiceIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');

const ServiceDefinitionSchema = z
  .object({
    id: ServiceIdSchema,
    // One discovery id per hook: clients key services by id (or by URL), so an id listed under several hooks
    // keeps only one of them (spec-digest §2).
    hooks: z
      .partialRecord(z.enum(HOOK_NAMES as [HookName, ...HookName[]]), ServiceIdSchema)
      .refine((hooks) => Object.keys(hooks).length > 0, 'must name at least one hook'),
    title: z.string().min(1),
    description: z.string().min(1),
    usageRequirements: z.string().min(1).optional(),
    rules: z.array(z.enum(RULE_IDS)).min(1),
    prefetch: z.array(z.string().min(1)).min(1),
  })
  .strict();

/**
 * Per rule, the prefetch data it cannot decide without: a list of groups, each satisfied when at least one of
 * its keys was available (e.g. B12 needs `[["medicationRequests", "medicationStatements"]]`).
 */
const RuleNeedsSchema = z.partialRecord(z.enum(RULE_IDS), z.array(z.array(z.string().min(1)).min(1)).min(1));

const ServicesFileSchema = z
  .object({
    prefetchTemplates: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/), PrefetchTemplateSchema),
    ruleNeeds: RuleNeedsSchema.default({}),
    services: z.array(ServiceDefinitionSchema).min(1),
  })
  .strict()
  .superRefine((file, context) => {
    for (const [rule, groups] of Object.entries(file.ruleNeeds)) {
      for (const key of groups.flat()) {
        if (!(key in file.prefetchTemplates)) {
          context.addIssue({
            code: 'custom',
            path: ['ruleNeeds', rule],
            message: `unknown prefetch key "${key}"`,
          });
        }
      }
    }
    // An id is a URL: it names one service (its own id may also be one of its hooks' ids).
    const owners = new Map<string, number>();
    file.services.forEach((service, index) => {
      for (const [path, id] of [
        [['services', index, 'id'], service.id],
        ...Object.entries(service.hooks).map(([hook, hookId]) => [
          ['services', index, 'hooks', hook],
          hookId,
        ]),
      ] as [(string | number)[], string][]) {
        const owner = owners.get(id);
        if (owner !== undefined && owner !== index) {
          context.addIssue({ code: 'custom', path, message: `duplicate id "${id}"` });
        }
        owners.set(id, index);
      }
      for (const key of service.prefetch) {
        if (!(key in file.prefetchTemplates)) {
          context.addIssue({
            code: 'custom',
            path: ['services', index, 'prefetch'],
            message: `unknown prefetch key "${key}"`,
          });
        }
      }
      for (const rule of service.rules) {
        for (const group of file.ruleNeeds[rule] ?? []) {
          if (!group.some((key) => service.prefetch.includes(key))) {
            context.addIssue({
              code: 'custom',
              path: ['services', index, 'prefetch'],
              message: `rule ${rule} needs one of ${group.map((key) => `"${key}"`).join(', ')}`,
            });
          }
        }
      }
      for (const hook of Object.keys(service.hooks) as HookName[]) {
        if (!service.rules.some((rule) => RULES[rule].hooks.includes(hook))) {
          context.addIssue({
            code: 'custom',
            path: ['services', index, 'hooks'],
            message: `no rule of this service runs on ${hook}`,
          });
        }
      }
    });
  });

/** A CDS service as the routes use it: its definition with the prefetch templates resolved. */
export interface CdsServiceDefinition {
  /** The service's own id; its URL answers every hook of the service, dispatching on `body.hook`. */
  readonly id: string;
  readonly hooks: readonly HookName[];
  /** The discovery id (and URL) of each hook; the cards of a hook are recorded under it. */
  readonly hookIds: Readonly<Partial<Record<HookName, string>>>;
  readonly title: string;
  readonly description: string;
  readonly usageRequirements?: string | undefined;
  readonly rules: readonly RuleId[];
  readonly prefetch: Readonly<Record<string, string>>;
  /** Per rule of this service, the groups of prefetch keys it cannot decide without (one of each group). */
  readonly ruleNeeds: ReadonlyMap<RuleId, readonly (readonly string[])[]>;
}

/** One URL, `/cds-services/{id}`: the service behind it and the hooks it answers. */
export interface CdsEndpoint {
  readonly id: string;
  readonly service: CdsServiceDefinition;
  readonly hooks: readonly HookName[];
}

export interface Catalog {
  /** By the services' own ids. */
  readonly services: ReadonlyMap<string, CdsServiceDefinition>;
  /** Every id a client may call: each hook's discovery id, and each service's own id. */
  readonly endpoints: ReadonlyMap<string, CdsEndpoint>;
  readonly cards: CardCatalog;
  readonly orders: OrderCatalog;
}

export class CatalogError extends Error {
  override readonly name = 'CatalogError' as const;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CatalogError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Site overrides are merged into the defaults object by object; arrays and values replace. The merged
 * objects have no prototype and read only own properties, so a key such as "__proto__" or "constructor" in
 * a site file is plain data (which the schema then refuses as unknown).
 */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) {
    return override;
  }
  const merged = Object.assign(Object.create(null) as Record<string, unknown>, base);
  for (const [key, value] of Object.entries(override)) {
    merged[key] = deepMerge(Object.hasOwn(base, key) ? base[key] : undefined, value);
  }
  return merged;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new CatalogError(`Invalid ${file}:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

function endpointsOf(services: Iterable<CdsServiceDefinition>): Map<string, CdsEndpoint> {
  const endpoints = new Map<string, CdsEndpoint>();
  for (const service of services) {
    for (const [hook, id] of Object.entries(service.hookIds) as [HookName, string][]) {
      endpoints.set(id, { id, service, hooks: [hook] });
    }
    // Set last: the service's own id answers all its hooks, even when it is also one hook's id.
    endpoints.set(service.id, { id: service.id, service, hooks: service.hooks });
  }
  return endpoints;
}

/** Reads and validates cds-hooks/*.json (plus the site's overrides) once, at start-up. */
export async function loadCatalog(options: {
  dir: string;
  cardsOverrideFile?: string | undefined;
  ordersOverrideFile?: string | undefined;
}): Promise<Catalog> {
  const servicesFile = join(options.dir, 'services.json');
  const cardsFile = join(options.dir, 'cards.json');
  const ordersFile = join(options.dir, 'orders.json');
  const [servicesRaw, cardsRaw, ordersRaw, cardsOverride, ordersOverride] = await Promise.all([
    readJson(servicesFile),
    readJson(cardsFile),
    readJson(ordersFile),
    options.cardsOverrideFile ? readJson(options.cardsOverrideFile) : undefined,
    options.ordersOverrideFile ? readJson(options.ordersOverrideFile) : undefined,
  ]);
  const servicesData = parseOrThrow(ServicesFileSchema, servicesRaw, servicesFile);
  const cards = parseOrThrow(
    CardCatalogSchema,
    deepMerge(cardsRaw, cardsOverride ?? {}),
    cardsFile,
  ) as unknown as CardCatalog;
  const orders = parseOrThrow(
    OrderCatalogSchema,
    deepMerge(ordersRaw, ordersOverride ?? {}),
    ordersFile,
  ) as unknown as OrderCatalog;
  const services = new Map<string, CdsServiceDefinition>(
    servicesData.services.map((service) => [
      service.id,
      {
        ...service,
        hooks: Object.keys(service.hooks) as HookName[],
        hookIds: service.hooks,
        prefetch: Object.fromEntries(
          service.prefetch.map((key) => [key, servicesData.prefetchTemplates[key] ?? '']),
        ),
        ruleNeeds: new Map(
          service.rules.map((rule) => [
            rule,
            (servicesData.ruleNeeds[rule] ?? []).map((group) =>
              group.filter((key) => service.prefetch.includes(key)),
            ),
          ]),
        ),
      },
    ]),
  );
  return { services, endpoints: endpointsOf(services.values()), cards, orders };
}
