import type { Condition, MedicationRequest, Resource } from '@medplum/fhirtypes';
import type { ClinicalConfig } from '../clinical-config.js';
import {
  b12Symptoms,
  conditionName,
  countedInGroup,
  NEUROLOGICAL_SYMPTOMS,
  type Symptom,
} from '../conditions.js';
import { addDays, addMonths, formatDate } from '../fhir-time.js';
import type { Finding, NoteRef, SuggestedOrder } from '../findings.js';
import { b12Results, type LabResult } from '../lab-results.js';
import {
  classifyConcept,
  currentDrugUse,
  type DrugUse,
  medicationConcept,
  medicationName,
} from '../medications.js';
import type { HookInput, PatientRecord } from '../patient-record.js';
import { isLiveOrder } from '../existing-orders.js';
import { B12_LOWERING_DRUGS, B12_LOWERING_DRUGS_SHORT, type DrugClass } from '../value-sets.js';
import { capitalise, listWords, shortLabel } from './card-words.js';
import { classifyB12 } from './classify-results.js';
import { conditionFact, resultFact, summaryValue } from './result-facts.js';

type LoweringDrug = keyof typeof B12_LOWERING_DRUGS;
const LOWERING_DRUGS = Object.keys(B12_LOWERING_DRUGS) as LoweringDrug[];

interface B12Context {
  readonly uses: Map<DrugClass, DrugUse>;
  /** B12 replacement taken now (a course that has ended is not replacement "active"). */
  readonly replacementActive: boolean;
  /** Metformin, PPI or H2 blocker use long enough (or of unknown start) to count as exposure. */
  readonly exposures: DrugUse[];
  readonly symptoms: Symptom[];
  readonly symptomFacts: string[];
  /** The Condition a B12 order is for: the neurological finding when there is one, else the first symptom. */
  readonly symptomReason: Condition | undefined;
  readonly latest: LabResult | undefined;
  readonly windowStart: Date;
  /** Change 5: neuropathy or another neurological finding (pain, cramps and anaemia are not). */
  readonly neurological: boolean;
  /** Change 7: a counted pernicious anaemia or B12 deficiency Condition. */
  readonly knownDeficiency: Condition | undefined;
  /** Change 8: macrocytic, megaloblastic or pernicious anaemia, or B12 deficiency, on record. */
  readonly anaemiaOrDeficiency: Condition | undefined;
}

/**
 * In order hooks two rules (B12-NEW-DRUG and FOLIC-ACID) read the same context from the same record: it is
 * worked out once per record, hook input and configuration.
 */
const contexts = new WeakMap<
  PatientRecord,
  { input: HookInput; config: ClinicalConfig; context: B12Context }
>();

function readContext(record: PatientRecord, input: HookInput, config: ClinicalConfig): B12Context {
  const cached = contexts.get(record);
  if (cached && cached.input === input && cached.config === config) {
    return cached.context;
  }
  const { now } = input;
  const settings = config.b12;
  const exposureLimit = addMonths(now, -settings.exposureMinMonths);
  const uses = currentDrugUse([...record.medicationStatements, ...record.medicationRequests], {
    windowStart: exposureLimit,
    now,
    courseGapDays: config.medications.courseGapDays,
    medications: record.medications,
  });
  const exposures = LOWERING_DRUGS.map((drug) => uses.get(drug)).filter(
    (use): use is DrugUse => use !== undefined && (use.start === undefined || use.start <= exposureLimit),
  );
  const latest = b12Results(record.observations, now, record.diagnosticReports)[0];
  const { symptoms, conditions } = b12Symptoms(record.conditions, now, config.chronicPainMinWeeks);
  const knownDeficiency = countedInGroup(record.conditions, 'knownB12Deficiency')[0];
  const context: B12Context = {
    uses,
    replacementActive: isOnReplacement(uses.get('b12Replacement'), latest, now, config),
    exposures,
    symptoms,
    symptomFacts: conditions.map(conditionFact),
    // A reason is a reference: a Condition sent without an id cannot be one, so the next symptom is named.
    symptomReason: [
      conditions[symptoms.findIndex((symptom) => NEUROLOGICAL_SYMPTOMS.has(symptom))],
      ...conditions,
    ].find((condition) => condition?.id !== undefined),
    latest,
    windowStart: addMonths(now, -settings.untestedWindowMonths),
    neurological: symptoms.some((symptom) => NEUROLOGICAL_SYMPTOMS.has(symptom)),
    knownDeficiency,
    anaemiaOrDeficiency: knownDeficiency ?? countedInGroup(record.conditions, 'macrocyticAnaemia')[0],
  };
  contexts.set(record, { input, config, context });
  return context;
}

/**
 * On B12 replacement: taking it now, or a last dose within the course gap with no B12 result since
 * (injections every 3 months are often recorded as completed statements; a course just finished after a low
 * result is treatment under way). A course that ended long ago, or a result taken after the last dose, is not.
 */
function isOnReplacement(
  use: DrugUse | undefined,
  latest: LabResult | undefined,
  now: Date,
  config: ClinicalConfig,
): boolean {
  if (!use) {
    return false;
  }
  const lastDose = use.lastTaken;
  const recentDose = lastDose !== undefined && lastDose >= addDays(now, -config.medications.courseGapDays);
  return use.ongoing || (recentDose && !(latest !== undefined && latest.time > lastDose));
}

/** At most two symptoms by name in a summary; the detail lists them all. */
function summarySymptoms(symptoms: readonly Symptom[]): string {
  return symptoms.length > 2 ? `${symptoms[0] ?? ''}, ${symptoms[1] ?? ''} and more` : listWords(symptoms);
}

/**
 * "long-term metformin and PPI use", or "metformin use" when a start is unknown (change 12: "long-term" only
 * when the start is known).
 */
function exposurePhrase(exposures: readonly DrugUse[]): string {
  const drugs = listWords(exposures.map((use) => B12_LOWERING_DRUGS_SHORT[use.drug as LoweringDrug]));
  return exposures.every((use) => use.start !== undefined) ? `long-term ${drugs} use` : `${drugs} use`;
}

/**
 * B12 replacement (changes 5 and 7): intramuscular hydroxocobalamin when there is neurological involvement
 * (neurological regimen) or pernicious anaemia (oral treatment is unreliable), else oral cyanocobalamin.
 * With neurological involvement no oral alternative is offered: the policy's regimen is then IM only.
 */
function replacementSuggestions(neurological: boolean, intramuscular: boolean): SuggestedOrder[] {
  if (neurological) {
    return [{ kind: 'medication', medication: 'hydroxocobalaminImNeurological', recommended: true }];
  }
  return intramuscular
    ? [{ kind: 'medication', medication: 'hydroxocobalaminIm', recommended: true }]
    : [{ kind: 'medication', medication: 'cyanocobalaminOral', recommended: true }];
}

/** Change 8: folic acid in use without B12 replacement adds a line to the patient-view B12 card. */
function folicAcidNotes(context: B12Context): NoteRef[] {
  const folic = context.uses.get('folicAcid');
  return folic?.ongoing ? [{ id: 'folicAcidActive', vars: { product: folic.names.join(', ') } }] : [];
}

function exposureFact(use: DrugUse): string {
  const since = use.start ? `since ${formatDate(use.start)}` : 'start date not recorded';
  return `${capitalise(B12_LOWERING_DRUGS[use.drug as LoweringDrug])}: ${use.names.join(', ')} (${since})`;
}

function classify(result: LabResult, config: ClinicalConfig) {
  return classifyB12(result, {
    totalDeficientBelow: config.b12.deficientBelowPgMl,
    totalUpTo: config.b12.indeterminateUpToPgMl,
    holoTcDeficientBelow: config.b12.holoTcDeficientBelowPmolL,
    holoTcUpTo: config.b12.holoTcIndeterminateUpToPmolL,
  });
}

function thresholdText(config: ClinicalConfig): string {
  const b12 = config.b12;
  return `Total B12: deficient below ${b12.deficientBelowPgMl} pg/mL, indeterminate ${b12.deficientBelowPgMl} to ${b12.indeterminateUpToPgMl} pg/mL (pmol/L × 1.355 = pg/mL). Active B12: deficient below ${b12.holoTcDeficientBelowPmolL} pmol/L, indeterminate ${b12.holoTcDeficientBelowPmolL} to ${b12.holoTcIndeterminateUpToPmolL} pmol/L.`;
}

/** Change 7: a known B12 deficiency with no replacement, with or without drug exposure. */
function knownDeficiencyFinding(context: B12Context, condition: Condition, config: ClinicalConfig): Finding {
  return {
    ruleId: 'B12',
    situation: 'b12-known-deficiency',
    indicator: 'warning',
    vars: { condition: shortLabel(conditionName(condition)) },
    facts: [
      conditionFact(condition),
      ...context.exposures.map(exposureFact),
      ...context.symptomFacts.filter((fact) => fact !== conditionFact(condition)),
      context.latest ? `Latest ${resultFact(context.latest)}` : 'No vitamin B12 result on record',
      'No B12 replacement on record',
    ],
    threshold: thresholdText(config),
    notes: [{ id: 'noFolicFirst' }, ...folicAcidNotes(context)],
    suggestions: replacementSuggestions(context.neurological, true),
    selectionBehavior: 'at-most-one',
    reasonConditionId: condition.id,
  };
}

/**
 * Rule B12 (patient-view): long-term metformin, PPI or H2 blocker with no recent or a low B12, or a known
 * B12 deficiency with no replacement. See policy.md, "Rule B12" and changes 5-8.
 */
export function evaluateB12Exposure(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding | undefined {
  const context = readContext(record, input, config);
  // NICE: people established on replacement are not retested.
  if (context.replacementActive) {
    return undefined;
  }
  if (context.knownDeficiency) {
    return knownDeficiencyFinding(context, context.knownDeficiency, config);
  }
  if (context.exposures.length === 0) {
    return undefined;
  }
  const exposure = exposurePhrase(context.exposures);
  const exposureFacts = context.exposures.map(exposureFact);
  const durationNotes = context.exposures
    .filter((use) => use.start === undefined)
    .map((use) => ({ id: 'durationUnknown' as const, vars: { drug: use.names[0] ?? use.drug } }));
  const folicNotes = folicAcidNotes(context);
  const { latest } = context;

  if (!latest || latest.time < context.windowStart) {
    const symptomatic = context.symptoms.length > 0;
    return {
      ruleId: 'B12',
      situation: symptomatic ? 'b12-untested-symptomatic' : 'b12-untested',
      indicator: symptomatic ? 'warning' : 'info',
      vars: {
        exposure: capitalise(exposure),
        symptom: summarySymptoms(context.symptoms),
        windowMonths: String(config.b12.untestedWindowMonths),
      },
      facts: [
        ...exposureFacts,
        ...context.symptomFacts,
        latest
          ? `Last ${resultFact(latest)}, older than ${config.b12.untestedWindowMonths} months`
          : 'No vitamin B12 result on record',
      ],
      threshold: `No B12 result in the last ${config.b12.untestedWindowMonths} months with at least ${config.b12.exposureMinMonths} months of use.`,
      notes: [...durationNotes, ...folicNotes],
      suggestions: [{ kind: 'lab', lab: 'b12', recommended: true }],
      selectionBehavior: 'at-most-one',
      reasonConditionId: context.symptomReason?.id,
    };
  }

  const status = classify(latest, config);
  const common = {
    ruleId: 'B12' as const,
    vars: { exposure, value: summaryValue(latest), date: latest.date },
    facts: [...exposureFacts, ...context.symptomFacts, resultFact(latest)],
    threshold: thresholdText(config),
    reasonConditionId: context.symptomReason?.id,
  };
  switch (status) {
    case 'normal':
    case 'unclassified':
      return undefined;
    case 'deficient':
      return {
        ...common,
        situation: 'b12-deficient',
        indicator: 'warning',
        notes: [...durationNotes, { id: 'noFolicFirst' }, ...folicNotes],
        // Seed 004: intramuscular hydroxocobalamin when there is neurological involvement (change 5).
        suggestions: replacementSuggestions(context.neurological, false),
        selectionBehavior: 'at-most-one',
      };
    case 'indeterminate':
      return {
        ...common,
        situation: 'b12-indeterminate',
        indicator: 'info',
        notes: [
          ...durationNotes,
          ...(context.symptoms.includes('cramps or spasm') ? [{ id: 'cramps' as const }] : []),
          ...folicNotes,
        ],
        suggestions: [{ kind: 'lab', lab: 'mma', recommended: true }],
        selectionBehavior: 'at-most-one',
      };
  }
}

/** The medication orders among drafts or selections that still stand (not withdrawn, not "do not perform"). */
function medicationOrders(orders: readonly Resource[]): MedicationRequest[] {
  return orders.filter(
    (order): order is MedicationRequest => order.resourceType === 'MedicationRequest' && isLiveOrder(order),
  );
}

/**
 * Rule B12, order-hook variant: a selected order starts metformin, a PPI or an H2 blocker for a patient who is
 * already exposed to another of them, or has a symptom, with no B12 result in the window.
 */
export function evaluateB12NewDrug(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding | undefined {
  const context = readContext(record, input, config);
  if (context.replacementActive || (context.latest && context.latest.time >= context.windowStart)) {
    return undefined;
  }
  for (const order of medicationOrders(input.focusOrders)) {
    const classes = classifyConcept(medicationConcept(order, record.medications));
    // An order "starts" a drug only when the patient is not taking it already (a renewal starts nothing).
    const ordered = LOWERING_DRUGS.filter(
      (drug) => classes.has(drug) && context.uses.get(drug)?.ongoing !== true,
    );
    if (ordered.length === 0) {
      continue;
    }
    const otherExposures = context.exposures.filter((use) => !ordered.includes(use.drug as LoweringDrug));
    if (otherExposures.length === 0 && context.symptoms.length === 0) {
      continue;
    }
    return {
      ruleId: 'B12-NEW-DRUG',
      situation: 'b12-new-drug',
      indicator: 'info',
      vars: {
        drug: capitalise(shortLabel(medicationName(order, record.medications))),
        windowMonths: String(config.b12.untestedWindowMonths),
      },
      facts: [
        `Ordered: ${medicationName(order, record.medications)}`,
        ...otherExposures.map(exposureFact),
        ...context.symptomFacts,
        context.latest
          ? `Last ${resultFact(context.latest)}, older than ${config.b12.untestedWindowMonths} months`
          : 'No vitamin B12 result on record',
      ],
      threshold: `No B12 result in the last ${config.b12.untestedWindowMonths} months.`,
      notes: [],
      suggestions: [{ kind: 'lab', lab: 'b12', recommended: true }],
      selectionBehavior: 'at-most-one',
      reasonConditionId: context.symptomReason?.id,
    };
  }
  return undefined;
}

/**
 * Folic acid guard (order hooks, change 8): folic acid ordered without B12 while the latest B12 is deficient
 * or indeterminate, or B12 is untested in an exposed patient or one with macrocytic, megaloblastic or
 * pernicious anaemia or a B12 deficiency on record, and no B12 replacement is active or ordered with it.
 */
export function evaluateFolicAcidGuard(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding | undefined {
  const medications = record.medications;
  const folicOrders = medicationOrders(input.focusOrders).filter((order) => {
    const classes = classifyConcept(medicationConcept(order, medications));
    return classes.has('folicAcid') && !classes.has('b12Replacement');
  });
  const folicOrder = folicOrders[0];
  if (!folicOrder) {
    return undefined;
  }
  const b12Ordered = medicationOrders(input.draftOrders).some((order) =>
    classifyConcept(medicationConcept(order, medications)).has('b12Replacement'),
  );
  const context = readContext(record, input, config);
  if (b12Ordered || context.replacementActive) {
    return undefined;
  }
  const { latest, anaemiaOrDeficiency } = context;
  const status = latest ? classify(latest, config) : undefined;
  const untested = !latest || latest.time < context.windowStart;
  const concern =
    status === 'deficient' || status === 'indeterminate'
      ? status
      : untested && (context.exposures.length > 0 || anaemiaOrDeficiency)
        ? 'untested'
        : undefined;
  if (!concern) {
    return undefined;
  }
  const pernicious = context.knownDeficiency !== undefined;
  const suggestions: SuggestedOrder[] =
    concern === 'deficient'
      ? replacementSuggestions(context.neurological, pernicious)
      : concern === 'indeterminate'
        ? [{ kind: 'lab', lab: 'mma', recommended: true }]
        : [{ kind: 'lab', lab: 'b12', recommended: true }];
  return {
    ruleId: 'FOLIC-ACID',
    situation: 'folic-acid-guard',
    indicator: 'warning',
    vars: {},
    facts: [
      `Ordered: ${medicationName(folicOrder, medications)}`,
      ...context.exposures.map(exposureFact),
      ...(anaemiaOrDeficiency ? [conditionFact(anaemiaOrDeficiency)] : []),
      latest ? resultFact(latest) : 'No vitamin B12 result on record',
      `B12 status: ${concern === 'untested' ? `not tested in ${config.b12.untestedWindowMonths} months` : concern}`,
    ],
    threshold: thresholdText(config),
    notes: [],
    suggestions,
    selectionBehavior: 'at-most-one',
    reasonConditionId: anaemiaOrDeficiency?.id,
  };
}
