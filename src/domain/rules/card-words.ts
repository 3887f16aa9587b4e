/** Small wording helpers for card summaries and details. */
import { graphemePrefix, plainLine } from '../card-text.js';

/** "a and b", "a, b and c". */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) {
    return words[0] ?? '';
  }
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1] ?? ''}`;
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Names from the EHR (procedures, products) can be long; summaries must stay under 140 characters.
 * Measured as the plain line the summary will show, and cut at a word boundary, else between whole
 * characters (never inside a surrogate pair or before a combining mark).
 */
export function shortLabel(text: string, max = 40): string {
  const name = plainLine(text);
  if (name.length <= max) {
    return name;
  }
  const cut = graphemePrefix(name, max);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > max / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}
