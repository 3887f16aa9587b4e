import type { CodeableConcept, Coding } from '@medplum/fhirtypes';

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

/** The concept's best label for a card: its text, else the first display. */
export function conceptLabel(concept: CodeableConcept | undefined): string | undefined {
  return concept?.text ?? concept?.coding?.find((coding) => coding.display)?.display;
}
