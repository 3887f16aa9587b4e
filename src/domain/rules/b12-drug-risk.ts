import type { MedicationRequest, Resource } from '@medplum/fhirtypes';
import type { ClinicalConfig } from '../clinical-config.js';
import { b12Symptoms, type Symptom } from '../conditions.js';
import { addMonths, formatDate } from '../fhir-time.js';
import type { Finding } from '../findings.js';
import { b12Results, type LabResult } from '../lab-results.js';
import {
  classifyConcept,
  currentDrugUse,
  type DrugUse,
  medicationConcept,
  medicationName,
} from '../medications.js';
import type { HookInput, PatientRecord } from '../patient-record.js';
import { B12_LOWERING_DRUGS, B12_LOWERING_DRUGS_SHORT, type DrugClass } from '../value-sets.js';
import {
  capitalise,
  classifyB12,
  conditionFact,
  listWords,
  reportedValue,
  resultFact,
  shortLabel,
} from './shared.js';

type LoweringDrug = keyof typeof B12_LOWERING_DRUGS;
const LOWERING_DRUGS = Object.keys(B12_LOWERING_DRUGS) as LoweringDrug[];
const NEUROLOGICAL: ReadonlySet<Symptom> = new Set(['chronic pain', 'cramps or spasm', 'neuropathy']);

interface B12Context {
  readonly uses: Map<DrugClass, DrugUse>;
  /** Metformin, PPI or H2 blocker use long enough (or of unknown start) to count as exposure. */
  readonly exposures: DrugUse[];
  readonly symptoms: Symptom[];
  readonly symptomFacts: string[];
  readonly latest: LabResult | undefined;
  readonly windowStart: Date;
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
  const uses = currentDrugUse([...record.medicationStatements, ...record.medicationRequests], exposureLimit);
  const exposures = LOWERING_DRUGS.map((drug) => uses.get(drug)).filter(
    (use): use is DrugUse => use !== undefined && (use.start === undefined || use.start <= exposureLimit),
  );
  const { symptoms, conditions } = b12Symptoms(record.conditions, now, config.chronicPainMinWeeks);
  const context: B12Context = {
    uses,
    exposures,
    symptoms,
    symptomFacts: conditions.map(conditionFact),
    latest: b12Results(record.observations)[0],
    windowStart: addMonths(now, -settings.untestedWindowMonths),
  };
  contexts.set(record, { input, config, context });
  return context;
}

/** At most two symptoms by name in a summary; the detail lists them all. */
function summarySymptoms(symptoms: readonly Symptom[]): string {
  return symptoms.length > 2 ? `${symptoms[0] ?? ''}, ${symptoms[1] ?? ''} and more` : listWords(symptoms);
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

/**
 * Rule B12 (patient-view): long-term metformin, PPI or H2 blocker with no recent or a low B12.
 * See policy.md, "Rule B12".
 */
export function evaluateB12Exposure(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding | undefined {
  const context = readContext(record, input, config);
  // NICE: people established on replacement are not retested.
  if (context.exposures.length === 0 || context.uses.has('b12Replacement')) {
    return undefined;
  }
  const drugs = listWords(context.exposures.map((use) => B12_LOWERING_DRUGS_SHORT[use.drug as LoweringDrug]));
  const exposureFacts = context.exposures.map(exposureFact);
  const durationNotes = context.exposures
    .filter((use) => use.start === undefined)
    .map((use) => ({ id: 'durationUnknown' as const, vars: { drug: use.names[0] ?? use.drug } }));
  const { latest } = context;

  if (!latest || latest.time < context.windowStart) {
    const symptomatic = context.symptoms.length > 0;
    return {
      ruleId: 'B12',
      situation: symptomatic ? 'b12-untested-symptomatic' : 'b12-untested',
      indicator: symptomatic ? 'warning' : 'info',
      vars: {
        drugs,
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
      notes: durationNotes,
      suggestions: [{ kind: 'lab', lab: 'b12', recommended: true }],
      selectionBehavior: 'at-most-one',
    };
  }

  const status = classify(latest, config);
  const common = {
    ruleId: 'B12' as const,
    vars: { drugs, value: reportedValue(latest), date: formatDate(latest.time) },
    facts: [...exposureFacts, ...context.symptomFacts, resultFact(latest)],
    threshold: thresholdText(config),
  };
  switch (status) {
    case 'normal':
    case 'unclassified':
      return undefined;
    case 'deficient': {
      const neurological = context.symptoms.some((symptom) => NEUROLOGICAL.has(symptom));
      return {
        ...common,
        situation: 'b12-deficient',
        indicator: 'warning',
        notes: [...durationNotes, { id: 'noFolicFirst' }],
        // Seed 004: intramuscular hydroxocobalamin when there are neurological symptoms.
        suggestions: neurological
          ? [
              { kind: 'medication', medication: 'hydroxocobalaminIm', recommended: true },
              { kind: 'medication', medication: 'cyanocobalaminOral', recommended: false },
            ]
          : [{ kind: 'medication', medication: 'cyanocobalaminOral', recommended: true }],
        selectionBehavior: 'at-most-one',
      };
    }
    case 'indeterminate':
      return {
        ...common,
        situation: 'b12-indeterminate',
        indicator: 'info',
        notes: [
          ...durationNotes,
          ...(context.symptoms.includes('cramps or spasm') ? [{ id: 'cramps' as const }] : []),
        ],
        suggestions: [{ kind: 'lab', lab: 'mma', recommended: true }],
        selectionBehavior: 'at-most-one',
      };
  }
}

function medicationOrders(orders: readonly Resource[]): MedicationRequest[] {
  return orders.filter((order): order is MedicationRequest => order.resourceType === 'MedicationRequest');
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
  if (context.uses.has('b12Replacement') || (context.latest && context.latest.time >= context.windowStart)) {
    return undefined;
  }
  for (const order of medicationOrders(input.focusOrders)) {
    const classes = classifyConcept(medicationConcept(order));
    const ordered = LOWERING_DRUGS.filter((drug) => classes.has(drug));
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
        drug: capitalise(shortLabel(medicationName(order))),
        windowMonths: String(config.b12.untestedWindowMonths),
      },
      facts: [
        `Ordered: ${medicationName(order)}`,
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
    };
  }
  return undefined;
}

/**
 * Folic acid guard (order hooks): folic acid ordered without B12 while B12 is deficient, indeterminate, or
 * untested in an exposed patient, and no B12 replacement is active or ordered with it.
 */
export function evaluateFolicAcidGuard(
  record: PatientRecord,
  input: HookInput,
  config: ClinicalConfig,
): Finding | undefined {
  const folicOrders = medicationOrders(input.focusOrders).filter((order) => {
    const classes = classifyConcept(medicationConcept(order));
    return classes.has('folicAcid') && !classes.has('b12Replacement');
  });
  const folicOrder = folicOrders[0];
  if (!folicOrder) {
    return undefined;
  }
  const b12Ordered = medicationOrders(input.draftOrders).some((order) =>
    classifyConcept(medicationConcept(order)).has('b12Replacement'),
  );
  const context = readContext(record, input, config);
  if (b12Ordered || context.uses.has('b12Replacement')) {
    return undefined;
  }
  const { latest } = context;
  const status = latest ? classify(latest, config) : undefined;
  const untested = !latest || latest.time < context.windowStart;
  const concern =
    status === 'deficient' || status === 'indeterminate'
      ? status
      : untested && context.exposures.length > 0
        ? 'untested'
        : undefined;
  if (!concern) {
    return undefined;
  }
  return {
    ruleId: 'FOLIC-ACID',
    situation: 'folic-acid-guard',
    indicator: 'warning',
    vars: {},
    facts: [
      `Ordered: ${medicationName(folicOrder)}`,
      ...context.exposures.map(exposureFact),
      latest ? resultFact(latest) : 'No vitamin B12 result on record',
      `B12 status: ${concern === 'untested' ? `not tested in ${config.b12.untestedWindowMonths} months` : concern}`,
    ],
    threshold: thresholdText(config),
    notes: [],
    suggestions: [
      { kind: 'lab', lab: 'b12', recommended: concern !== 'deficient' },
      { kind: 'medication', medication: 'cyanocobalaminOral', recommended: concern === 'deficient' },
    ],
    selectionBehavior: 'any',
  };
}
