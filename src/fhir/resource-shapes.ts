import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';

/**
 * The shape of every field the rules read, per resource type. Resources arrive from EHRs and FHIR servers
 * as untyped JSON; checking these fields once at the boundary keeps the pure rules free of defensive code.
 * Everything else passes through untouched.
 */
const Coding = z.looseObject({
  system: z.string().optional(),
  code: z.string().optional(),
  display: z.string().optional(),
});
const CodeableConcept = z.looseObject({ coding: z.array(Coding).optional(), text: z.string().optional() });
const Period = z.looseObject({ start: z.string().optional(), end: z.string().optional() });
const Reference = z.looseObject({ reference: z.string().optional(), display: z.string().optional() });

/** A result's value, on an Observation or on one of its components. */
const ObservationValue = {
  valueQuantity: z
    .looseObject({
      value: z.number().optional(),
      unit: z.string().optional(),
      code: z.string().optional(),
      comparator: z.enum(['<', '<=', '>=', '>', 'ad']).optional(),
    })
    .optional(),
  valueString: z.string().optional(),
};

/** Every resource's id, when it has one: records are grouped and results matched by it. */
const ResourceId = { id: z.string().optional() };

const Medication = {
  medicationCodeableConcept: CodeableConcept.optional(),
  medicationReference: Reference.optional(),
  contained: z
    .array(
      z.looseObject({
        resourceType: z.string(),
        id: z.string().optional(),
        code: CodeableConcept.optional(),
      }),
    )
    .optional(),
};

/** Shapes per type; `status` is passed in because draft orders may still lack one (order-select). */
const shapes = (Status: z.ZodType): Readonly<Record<string, z.ZodType>> => ({
  Medication: z.looseObject({ ...ResourceId, code: CodeableConcept.optional() }),
  DiagnosticReport: z.looseObject({ ...ResourceId, result: z.array(Reference).optional() }),
  Patient: z.looseObject({
    ...ResourceId,
    deceasedBoolean: z.boolean().optional(),
    deceasedDateTime: z.string().optional(),
  }),
  Condition: z.looseObject({
    ...ResourceId,
    code: CodeableConcept.optional(),
    clinicalStatus: CodeableConcept.optional(),
    verificationStatus: CodeableConcept.optional(),
    onsetDateTime: z.string().optional(),
    onsetPeriod: Period.optional(),
    recordedDate: z.string().optional(),
  }),
  Observation: z.looseObject({
    ...ResourceId,
    status: Status,
    code: CodeableConcept,
    ...ObservationValue,
    component: z.array(z.looseObject({ code: CodeableConcept.optional(), ...ObservationValue })).optional(),
    effectiveDateTime: z.string().optional(),
    effectivePeriod: Period.optional(),
    issued: z.string().optional(),
  }),
  MedicationRequest: z.looseObject({
    ...ResourceId,
    status: Status,
    authoredOn: z.string().optional(),
    ...Medication,
  }),
  MedicationStatement: z.looseObject({
    ...ResourceId,
    status: Status,
    effectiveDateTime: z.string().optional(),
    effectivePeriod: Period.optional(),
    dateAsserted: z.string().optional(),
    ...Medication,
  }),
  ServiceRequest: z.looseObject({
    ...ResourceId,
    status: Status,
    code: CodeableConcept.optional(),
    occurrenceDateTime: z.string().optional(),
    occurrencePeriod: Period.optional(),
    reasonReference: z.array(Reference).optional(),
  }),
  Procedure: z.looseObject({
    ...ResourceId,
    status: Status,
    code: CodeableConcept.optional(),
    performedDateTime: z.string().optional(),
    performedPeriod: Period.optional(),
    reasonReference: z.array(Reference).optional(),
  }),
});

/**
 * The zod shapes compiled once to JSON Schema validators: on the hot path a check allocates nothing, where a
 * zod parse would copy every resource. zod stays the one definition.
 */
const ajv = new Ajv({ allErrors: false, strict: false });
const compileAll = (status: z.ZodType): ReadonlyMap<string, ValidateFunction> =>
  new Map(
    Object.entries(shapes(status)).map(([type, shape]) => [
      type,
      ajv.compile(z.toJSONSchema(shape, { io: 'input', target: 'draft-7' })),
    ]),
  );
const VALIDATORS = compileAll(z.string().min(1));
/** CDS Hooks: order-select fires while the order is being written, so its details may be incomplete. */
const DRAFT_ORDER_VALIDATORS = compileAll(z.string().min(1).optional());

/** Undefined when the resource is usable, else a short description of the first problem. */
export function resourceProblem(
  resource: { resourceType: string },
  options: { draftOrder?: boolean } = {},
): string | undefined {
  const validate = (options.draftOrder ? DRAFT_ORDER_VALIDATORS : VALIDATORS).get(resource.resourceType);
  if (!validate || validate(resource)) {
    return undefined;
  }
  const error = validate.errors?.[0];
  const missing =
    error?.keyword === 'required'
      ? (error.params as { missingProperty?: string }).missingProperty
      : undefined;
  const path = [...(error?.instancePath ?? '').split('/'), missing ?? '']
    .filter((part) => part.length > 0)
    .join('.');
  return `${path || '(root)'}: ${missing ? 'is required' : (error?.message ?? 'is invalid')}`;
}
