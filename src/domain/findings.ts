import type { CdsCard, CdsLink } from '@medplum/core';
import type { Coding } from '@medplum/fhirtypes';
import type { LabKey, MedicationKey, NoteId, RuleId, SituationId } from './card-and-order-schemas.js';

export type Indicator = CdsCard['indicator'];

export type SuggestedOrder =
  | { readonly kind: 'lab'; readonly lab: LabKey; readonly recommended: boolean; readonly timing?: LabTiming }
  | { readonly kind: 'medication'; readonly medication: MedicationKey; readonly recommended: boolean };

/** When a suggested lab should be drawn, if not now. */
export type LabTiming =
  | { readonly kind: 'after-weeks'; readonly weeks: number }
  /** Change 10: dated some days before the operation when its date is known. */
  | { readonly kind: 'before-surgery'; readonly drawBy?: Date | undefined };

/** A note of cards.json, with the values for its placeholders. */
export interface NoteRef {
  readonly id: NoteId;
  readonly vars?: Readonly<Record<string, string>>;
}

/** What a rule found: everything a card needs, with no wording of its own beyond facts. */
export interface Finding {
  readonly ruleId: RuleId;
  readonly situation: SituationId;
  readonly indicator: Indicator;
  /**
   * Values for the placeholders of the situation's summary. Like the facts, the threshold and the notes'
   * values, plain text, often the EHR's own: render-card.ts makes it a plain line or escaped Markdown.
   */
  readonly vars: Readonly<Record<string, string>>;
  /** The facts used, each with its value, unit and date, one line of plain text each (not Markdown). */
  readonly facts: readonly string[];
  /** The threshold or window applied (plain text). */
  readonly threshold: string;
  readonly notes: readonly NoteRef[];
  readonly suggestions: readonly SuggestedOrder[];
  /**
   * Shown even when nothing is left to suggest: the card's point is what it says (no dose is suggested, and
   * why), not an order.
   */
  readonly showWithoutSuggestions?: boolean | undefined;
  /** Change 11: a pregnancy took the medication this card would suggest away; its summary says so. */
  readonly testsOnly?: boolean | undefined;
  readonly selectionBehavior: 'any' | 'at-most-one';
  /** The Condition the suggested orders are for, when there is one. */
  readonly reasonConditionId?: string | undefined;
}

/** A Coding with the fields CDS Hooks requires of topics and override reasons. */
export interface CdsCoding extends Coding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** Our card: Medplum's CdsCard plus the 2.0 fields it leaves out. */
export interface CdsCardOut extends CdsCard {
  readonly uuid: string;
  readonly source: NonNullable<CdsCard['source']> & { readonly topic: CdsCoding };
  readonly selectionBehavior?: 'any' | 'at-most-one';
  readonly overrideReasons?: CdsCoding[];
  /** CDS Hooks 2.0 has no "relative" links. */
  readonly links?: (CdsLink & { readonly type: 'absolute' | 'smart' })[];
}
