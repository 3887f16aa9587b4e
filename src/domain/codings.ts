import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { plainLine } from './card-text.js';

/** Codings of one system in a concept (or several concepts). */
export function codesOf(concepts: readonly (CodeableConcept | undefined)[], system: string): string[] {
  const codes: string[] = [];
  for (const concept of concepts) {
    for (const coding of concept?.coding ?? []) {
      if (coding.system === system && coding.code) {
        codes.push(coding.code);
      }
    }
  }
  return codes;
}

/** ICD-10-CM codes are matched upper case, without the dot, by prefix. */
export function normaliseIcd10(code: string): string {
  return code.toUpperCase().replace(/[.\s]/g, '');
}

/** All human-readable text of a concept, for the documented name fallbacks. */
export function conceptText(concept: CodeableConcept | undefined): string {
  return [concept?.text, ...(concept?.coding ?? []).map((coding: Coding) => coding.display)]
    .filter((text): text is string => typeof text === 'string')
    .join(' | ');
}

/**
 * The concept's best label for a card: its text, else the first display. A text or display with nothing
 * visible in it (spaces, line breaks, zero-width or bidi characters only) is passed over: it would leave a
 * blank where the card names the condition, drug or operation.
 */
export function conceptLabel(concept: CodeableConcept | undefined): string | undefined {
  const visible = (label: string | undefined): label is string =>
    typeof label === 'string' && plainLine(label) !== '';
  if (visible(concept?.text)) {
    return concept.text;
  }
  return concept?.coding?.find((coding) => visible(coding.display))?.display;
}
