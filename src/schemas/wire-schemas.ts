import { z } from 'zod';

/**
 * Wire schemas for CDS Hooks 2.0 requests and responses. They follow the spec's field levels; unknown
 * fields and extensions pass through, as the spec asks services to ignore what they do not know.
 * See {@link https://cds-hooks.hl7.org/2.0/ | CDS Hooks 2.0}.
 */

const FhirId = z
  .string()
  .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id (letters, digits, "-" and ".", at most 64)');
const TypedReference = z
  .string()
  .regex(/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/, 'must be a reference of the form Type/id');

export const CodingSchema = z.object({
  system: z.string().min(1),
  code: z.string().min(1),
  display: z.string().min(1).optional(),
});

export const FhirAuthorizationSchema = z.looseObject({
  access_token: z.string().min(1),
  // Real clients omit some of these (cds-hooks/sandbox#65): only the token itself is required.
  token_type: z.string().optional(),
  expires_in: z.number().optional(),
  scope: z.string().optional(),
  subject: z.string().optional(),
  patient: z.string().optional(),
});

export const CdsRequestSchema = z
  .looseObject({
    hook: z.string().min(1),
    hookInstance: z.string().min(1).max(256),
    fhirServer: z.url({ protocol: /^https?$/ }).optional(),
    fhirAuthorization: FhirAuthorizationSchema.optional(),
    context: z
      .record(z.string(), z.unknown())
      .describe(
        'Hook context. Limits: at most 1000 `draftOrders` entries and 1000 `selections` (more is a 413).',
      ),
    prefetch: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Prefetch by template key: a FHIR resource, a Bundle or null. Limit: at most 50000 resources in all (more is a 413).',
      ),
    extension: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((request) => request.fhirAuthorization === undefined || request.fhirServer !== undefined, {
    message: 'fhirServer is required when fhirAuthorization is present',
    path: ['fhirServer'],
  });
export type CdsRequestBody = z.infer<typeof CdsRequestSchema>;

const DraftOrdersSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  // Bundle.type is unspecified for draftOrders (cds-hooks/docs#517): accept it with or without.
  type: z.string().optional(),
  entry: z
    .array(
      z.looseObject({
        resource: z.looseObject({ resourceType: z.string().min(1), id: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});

const BaseContext = {
  userId: z.string().min(1),
  patientId: FhirId,
  encounterId: z.string().min(1).optional(),
};

export const HookContextSchemas = {
  'patient-view': z.looseObject(BaseContext),
  'order-select': z.looseObject({
    ...BaseContext,
    // Empty when the order screen opens with nothing drafted yet (the CDS Hooks Sandbox's Rx View).
    selections: z.array(TypedReference),
    draftOrders: DraftOrdersSchema,
  }),
  'order-sign': z.looseObject({ ...BaseContext, draftOrders: DraftOrdersSchema }),
} as const;
export type DraftOrders = z.infer<typeof DraftOrdersSchema>;

export const ServiceIdParamsSchema = z.object({ id: z.string().min(1).max(128) });

const LinkSchema = z.object({
  label: z.string().min(1),
  url: z.string().min(1),
  type: z.enum(['absolute', 'smart']),
  appContext: z.string().optional(),
  autolaunchable: z.boolean().optional(),
});

export const CardSchema = z.object({
  uuid: z.string().optional(),
  summary: z.string().min(1).max(139),
  detail: z.string().optional(),
  indicator: z.enum(['info', 'warning', 'critical']),
  source: z.object({
    label: z.string().min(1),
    url: z.string().optional(),
    icon: z.string().optional(),
    topic: CodingSchema.optional(),
  }),
  suggestions: z
    .array(
      z.object({
        label: z.string().min(1),
        uuid: z.string().optional(),
        isRecommended: z.boolean().optional(),
        actions: z
          .array(
            z.object({
              type: z.enum(['create', 'update', 'delete']),
              description: z.string().min(1),
              resource: z.unknown().optional().describe('A FHIR resource'),
              resourceId: z.string().optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
  selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
  overrideReasons: z.array(CodingSchema.extend({ display: z.string().min(1) })).optional(),
  links: z.array(LinkSchema).optional(),
});

export const CdsResponseSchema = z.object({ cards: z.array(CardSchema) });

export const DiscoveryResponseSchema = z.object({
  services: z.array(
    z.object({
      hook: z.string(),
      id: z.string(),
      title: z.string().optional(),
      description: z.string(),
      prefetch: z.record(z.string(), z.string()).optional(),
      usageRequirements: z.string().optional(),
    }),
  ),
});

/** Most feedback items one request may carry: a client reports on the cards of a few calls at a time. */
export const MAX_FEEDBACK_ITEMS = 1000;

export const FeedbackRequestSchema = z.object({
  feedback: z
    .array(
      z
        .looseObject({
          card: z.string().min(1),
          outcome: z.enum(['accepted', 'overridden']),
          acceptedSuggestions: z.array(z.looseObject({ id: z.string().min(1) })).optional(),
          overrideReason: z
            .looseObject({
              reason: CodingSchema.optional(),
              userComment: z.string().optional(),
            })
            .optional(),
          outcomeTimestamp: z.iso.datetime({ offset: true }),
        })
        .refine((item) => item.outcome !== 'accepted' || (item.acceptedSuggestions?.length ?? 0) > 0, {
          message: 'acceptedSuggestions is required when outcome is accepted',
          path: ['acceptedSuggestions'],
        }),
    )
    .min(1)
    .max(MAX_FEEDBACK_ITEMS)
    .describe(`Limit: at most ${MAX_FEEDBACK_ITEMS} items per request (more is a 413).`),
});

export const FeedbackResponseSchema = z.object({
  received: z.number().int().describe('items in the request'),
  stored: z.number().int().describe('items not stored before (the same item reported twice is kept once)'),
  unknownCards: z
    .number()
    .int()
    .describe(
      'items for a card this service did not show this client (issuer and tenant) through this service: kept and counted, never acted on',
    ),
});

const DateOrDateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const AnalyticsQuerySchema = z.object({
  from: DateOrDateTime.optional().describe(
    'start of the range (inclusive; a date means its midnight UTC); default 30 days before `to`',
  ),
  to: DateOrDateTime.optional().describe('end of the range (exclusive); default now'),
});

export const AnalyticsResponseSchema = z.object({
  from: z.string(),
  to: z.string(),
  rules: z.array(
    z.object({
      serviceId: z.string(),
      ruleId: z.string(),
      shown: z.number().int(),
      accepted: z.number().int(),
      overridden: z.number().int(),
      overrideReasons: z.record(z.string(), z.number().int()),
    }),
  ),
});

export const ErrorResponseSchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  code: z.string(),
  message: z.string(),
  requestId: z.string(),
});
