import type { CdsSuggestion } from '@medplum/core';
import type { MedicationRequest, ServiceRequest } from '@medplum/fhirtypes';
import type { CardCatalog, OrderCatalog } from './card-and-order-schemas.js';
import type { OrderLookup } from './existing-orders.js';
import { clampText, markdownText, plainLine } from './card-text.js';
import { addWeeks, formatDate } from './fhir-time.js';
import { uuidv5 } from './uuid-v5.js';
import type { CdsCardOut, Finding, SuggestedOrder } from './findings.js';
import { SYSTEM } from './value-sets.js';

const MAX_SUMMARY = 139;

const BOUND_UNITS = { d: 'days', wk: 'weeks', mo: 'months' } as const;

export interface RenderContext {
  readonly cards: CardCatalog;
  readonly orders: OrderCatalog;
  readonly lookup: OrderLookup;
  readonly serviceId: string;
  readonly serviceTitle: string;
  readonly hookInstance: string;
  readonly patientId: string;
  /**
   * Set apart the uuids of different patients' cards even when a client reuses a hookInstance, so feedback is
   * tied to the right patient (a keyed hash of the patient, never the reference itself).
   */
  readonly patientKey: string;
  readonly now: Date;
}

/**
 * A cards.json template with its placeholders filled. The values are plain text, from the EHR as often as
 * not: `asText` makes each one what the template is (a plain summary line, or Markdown for the detail).
 */
function fill(
  template: string,
  vars: Readonly<Record<string, string>>,
  asText: (value: string) => string,
): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => {
    const value = vars[name];
    return value === undefined ? match : asText(value);
  });
}

/**
 * A summary is one line of plain text under 140 characters (CDS Hooks; Inferno fails 140 and more), cut
 * between whole characters.
 */
function clampSummary(summary: string): string {
  return clampText(summary, MAX_SUMMARY);
}

function isAlreadyOrdered(suggestion: SuggestedOrder, lookup: OrderLookup): boolean {
  return suggestion.kind === 'lab'
    ? lookup.hasLab(suggestion.lab)
    : lookup.hasMedication(suggestion.medication);
}

function buildSuggestion(
  suggestion: SuggestedOrder,
  finding: Finding,
  context: RenderContext,
  cardUuid: string,
): CdsSuggestion {
  const subject = { reference: `Patient/${context.patientId}` };
  const reasonReference = finding.reasonConditionId
    ? [{ reference: `Condition/${finding.reasonConditionId}` }]
    : undefined;
  let label: string;
  let resource: ServiceRequest | MedicationRequest;
  if (suggestion.kind === 'lab') {
    const lab = context.orders.labs[suggestion.lab];
    const timing = suggestion.timing;
    const drawBy = timing?.kind === 'before-surgery' ? timing.drawBy : undefined;
    label =
      timing?.kind === 'after-weeks'
        ? `Recheck ${lab.text} in ${timing.weeks} weeks`
        : timing?.kind === 'before-surgery'
          ? `Recheck ${lab.text} before surgery${drawBy ? ` (by ${formatDate(drawBy)})` : ''}`
          : `Order ${lab.text}`;
    const occurrence = timing?.kind === 'after-weeks' ? addWeeks(context.now, timing.weeks) : drawBy;
    resource = {
      resourceType: 'ServiceRequest',
      status: 'draft',
      intent: 'proposal',
      category: [{ coding: [{ system: SYSTEM.snomed, code: '108252007', display: 'Laboratory procedure' }] }],
      code: { coding: [lab.code], text: lab.text },
      subject,
      ...(reasonReference ? { reasonReference } : {}),
      ...(occurrence ? { occurrenceDateTime: formatDate(occurrence) } : {}),
      ...(timing?.kind === 'before-surgery'
        ? { note: [{ text: 'Draw before the planned spine surgery.' }] }
        : {}),
    };
  } else {
    const medication = context.orders.medications[suggestion.medication];
    label = `${medication.text}: ${medication.instruction}`;
    resource = {
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'proposal',
      medicationCodeableConcept: { coding: [medication.code], text: medication.text },
      subject,
      ...(reasonReference ? { reasonReference } : {}),
      // Change 6: one entry per phase, in order, each with its bounds: nothing open-ended.
      dosageInstruction: medication.dosage.map((phase, index) => ({
        sequence: index + 1,
        text: phase.text,
        timing: {
          repeat: {
            ...phase.timing,
            boundsDuration: {
              value: phase.bounds.value,
              unit: BOUND_UNITS[phase.bounds.unit],
              system: SYSTEM.ucum,
              code: phase.bounds.unit,
            },
          },
        },
        route: { coding: [medication.route] },
        doseAndRate: [{ doseQuantity: { ...medication.dose, system: SYSTEM.ucum } }],
      })),
    };
  }
  const key =
    suggestion.kind === 'lab'
      ? `lab:${suggestion.lab}:${suggestion.timing?.kind ?? 'now'}`
      : `medication:${suggestion.medication}`;
  return {
    label,
    uuid: uuidv5(`${cardUuid}|${key}`),
    isRecommended: suggestion.recommended,
    actions: [{ type: 'create', description: `Propose: ${label}`, resource }],
  };
}

function buildDetail(finding: Finding, context: RenderContext): string {
  const situation = context.cards.situations[finding.situation];
  const notes = finding.notes.map((note) =>
    fill(context.cards.notes[note.id], note.vars ?? {}, markdownText),
  );
  const evidence = situation.evidence.flatMap((key) => {
    const source = context.cards.evidence[key];
    return source ? [`- [${source.label}](${source.url})`] : [];
  });
  return [
    situation.why,
    // The finding's text is plain and partly the EHR's: only our own wording around it is Markdown.
    ['**Facts used**', ...finding.facts.map((fact) => `- ${markdownText(fact)}`)].join('\n'),
    `**Threshold applied:** ${markdownText(finding.threshold)}`,
    ...notes,
    ['**Evidence**', ...evidence].join('\n'),
  ].join('\n\n');
}

function summaryOf(finding: Finding, context: RenderContext): string {
  const situation = context.cards.situations[finding.situation];
  return (finding.testsOnly === true ? situation.summaryTestsOnly : undefined) ?? situation.summary;
}

/**
 * A spec-valid card for a finding, or undefined when every order it would suggest is already active or
 * among the draft orders: a card never suggests an order twice.
 */
export function renderCard(finding: Finding, context: RenderContext): CdsCardOut | undefined {
  const remaining = finding.suggestions.filter((suggestion) => !isAlreadyOrdered(suggestion, context.lookup));
  if (remaining.length === 0 && finding.showWithoutSuggestions !== true) {
    return undefined;
  }
  const uuid = uuidv5(`${context.hookInstance}|${context.serviceId}|${finding.ruleId}|${context.patientKey}`);
  const suggestions = remaining.map((suggestion) => buildSuggestion(suggestion, finding, context, uuid));
  const recommendedCount = suggestions.filter((suggestion) => suggestion.isRecommended).length;
  // The evidence travels as card links too, so an EHR can show it as buttons (issue 12).
  const links = context.cards.situations[finding.situation].evidence.flatMap((key) => {
    const source = context.cards.evidence[key];
    return source ? [{ label: source.label, url: source.url, type: 'absolute' as const }] : [];
  });
  return {
    uuid,
    summary: clampSummary(fill(summaryOf(finding, context), finding.vars, plainLine)),
    detail: buildDetail(finding, context),
    indicator: finding.indicator,
    source: {
      label: context.serviceTitle,
      topic: {
        system: context.cards.source.topicSystem,
        code: finding.ruleId,
        display: context.cards.rules[finding.ruleId].display,
      },
    },
    // CDS Hooks: elements are left out rather than sent empty.
    ...(suggestions.length > 0
      ? {
          suggestions,
          // Several recommended suggestions are only allowed with "any".
          selectionBehavior: recommendedCount > 1 ? 'any' : finding.selectionBehavior,
        }
      : {}),
    overrideReasons: [...context.cards.overrideReasons],
    ...(links.length > 0 ? { links } : {}),
  };
}
