/**
 * Text from the EHR (condition, medication and procedure names, units) on its way into a card. A Finding's
 * vars, facts, threshold and note values are plain text; only the wording of cds-hooks/cards.json is Markdown.
 * render-card.ts is the one place where plain text becomes a summary (`plainLine`) or a line of the detail
 * (`markdownText`). See {@link https://cds-hooks.hl7.org/2.0/#card-attributes | CDS Cards}: `summary` is
 * plain text under 140 characters, `detail` is GitHub Flavored Markdown, which clients may render with HTML.
 */

/**
 * Format characters (Unicode Cf): bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069), marks,
 * zero-width spaces and joiners, the BOM, soft hyphens and tag characters. Invisible, so dropped.
 */
const INVISIBLE = /\p{Cf}/gu;
/** Controls (C0 with newlines and tabs, DEL, C1) and every whitespace, line and paragraph separators included. */
const BREAKS = /[\p{Cc}\s]+/gu;
/** Anything plainLine would change, tested first so that clean text (nearly all of it) is not rebuilt. */
const NOT_PLAIN = /[\p{Cc}\p{Cf}]|[^\S ]| {2}|^ | $/u;

/**
 * One line of plain text: format characters dropped, controls and any whitespace run made one space, ends
 * trimmed, a lone UTF-16 surrogate made U+FFFD.
 */
export function plainLine(text: string): string {
  if (!NOT_PLAIN.test(text) && text.isWellFormed()) {
    return text;
  }
  return text.toWellFormed().replace(INVISIBLE, '').replace(BREAKS, ' ').trim();
}

/**
 * What GitHub Flavored Markdown could read as markup inside one line: backslashes, code, emphasis and
 * strikethrough, links and images, tables, math; `<` only where it could open HTML or an autolink, `&` only
 * where it could be an entity or character reference (`&#x202e;`), `:` only before `//` and the dot of
 * `www.` (GFM's extended autolinks), and `@` (email autolinks).
 */
const INLINE_MARKUP = /[\\`*_~[\]|$@]|<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)|:(?=\/\/)|(?<=www)\./gi;
/** Block markers at the start of a line (headings, quotes, lists, setext underlines): `# `, `> `, `- `, `1. `. */
const LEADING_MARKER = /^(?:[#>+=-]|\d{1,9}(?=[.)]))/;

/**
 * Plain text as Markdown that renders as exactly that text, on one line: no link, image, HTML, emphasis,
 * heading, list, table or code can come from it (CommonMark: any ASCII punctuation may be backslash-escaped).
 * Characters that are markup only in some places are escaped only there, so a clinical line such as
 * "25-hydroxyvitamin D: <8 ng/mL (on 2026-10-01)" reads the same in the raw text.
 */
export function markdownText(text: string): string {
  const line = plainLine(text).replace(INLINE_MARKUP, '\\$&');
  return line.replace(LEADING_MARKER, (marker) => (/\d/.test(marker) ? `${marker}\\` : `\\${marker}`));
}
