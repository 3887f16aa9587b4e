/**
 * Text from the EHR (condition, medication and procedure names, units) on its way into a card. A Finding's
 * vars, facts, threshold and note values are plain text; only the wording of cds-hooks/cards.json is
 * Markdown. render-card.ts is the one place where plain text becomes a summary (`plainLine`) or a line of the
 * detail (`markdownText`). See {@link https://cds-hooks.hl7.org/2.0/#card-attributes | CDS Cards}: `summary`
 * is plain text under 140 characters, `detail` is GitHub Flavored Markdown, which clients may render with
 * HTML.
 */

/**
 * Format characters (Unicode Cf): bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069), marks,
 * zero-width spaces and joiners, the BOM, soft hyphens and tag characters. Invisible, so dropped.
 */
const INVISIBLE = /\p{Cf}/gu;
/** Controls (C0 with newlines and tabs, DEL, C1) and all whitespace, line and paragraph separators too. */
const BREAKS = /[\p{Cc}\s]+/gu;
/** Anything but printable ASCII (space to tilde). Names and facts mostly are: that case is checked fast. */
const NOT_ASCII = /[^ -~]/;

/**
 * One line of plain text: format characters dropped, controls and any whitespace run made one space, ends
 * trimmed, a lone UTF-16 surrogate made U+FFFD.
 */
export function plainLine(text: string): string {
  const plainAscii =
    !NOT_ASCII.test(text) &&
    !text.includes('  ') &&
    text.charCodeAt(0) !== 0x20 &&
    text.charCodeAt(text.length - 1) !== 0x20;
  return plainAscii ? text : text.toWellFormed().replace(INVISIBLE, '').replace(BREAKS, ' ').trim();
}

/**
 * What GitHub Flavored Markdown could read as markup inside one line: backslashes, code, emphasis and
 * strikethrough, links and images, tables, math; `<` only where it could open HTML or an autolink, `&` only
 * where it could be an entity or character reference (`&#x202e;`), `:` only before `//` and the dot of
 * `www.` (GFM's extended autolinks), and `@` (email autolinks).
 */
const INLINE_MARKUP = /[\\`*_~[\]|$@]|<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)|:(?=\/\/)|(?<=www)\./gi;
/** A quick test for INLINE_MARKUP, without its lookarounds: most lines have nothing to escape. */
const MAYBE_MARKUP = /[\\`*_~[\]|$@<&]|:\/\/|www\./i;
/** Block markers at the start of a line (headings, quotes, lists, setext underlines): `#`, `>`, `-`, `1.`. */
const LEADING_MARKER = /^(?:[#>+=-]|\d{1,9}(?=[.)]))/;

/**
 * Plain text as Markdown that renders as exactly that text, on one line: no link, image, HTML, emphasis,
 * heading, list, table or code can come from it (CommonMark: any ASCII punctuation may be backslash-escaped).
 * Characters that are markup only in some places are escaped only there, so a clinical line such as
 * "25-hydroxyvitamin D: <8 ng/mL (on 2026-10-01)" reads the same in the raw text.
 */
export function markdownText(text: string): string {
  const plain = plainLine(text);
  const line = MAYBE_MARKUP.test(plain) ? plain.replace(INLINE_MARKUP, '\\$&') : plain;
  return LEADING_MARKER.test(line)
    ? line.replace(LEADING_MARKER, (marker) => (/\d/.test(marker) ? `${marker}\\` : `\\${marker}`))
    : line;
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Between two of these there is always a grapheme boundary (UAX #29: no Extend, ZWJ, CR or LF below). */
function isSimple(code: number): boolean {
  return code >= 0x20 && code < 0x300;
}

/**
 * The longest start of the text that is at most `max` UTF-16 code units and ends between whole graphemes, so
 * that a cut never leaves half a surrogate pair or a letter without its accent. Segments only near the cut
 * and only when the character pair there is not plainly Latin (the common case costs two comparisons). A
 * single grapheme longer than `max` (a letter under hundreds of combining marks) is cut between code points
 * instead.
 */
export function graphemePrefix(text: string, max: number): string {
  if (text.length <= max) {
    return text;
  }
  if (max <= 0) {
    return '';
  }
  if (isSimple(text.charCodeAt(max - 1)) && isSimple(text.charCodeAt(max))) {
    return text.slice(0, max);
  }
  let end = 0;
  // Two code units past the cut: the whole code point at the cut decides whether the cut is a boundary.
  for (const { index, segment } of graphemes.segment(text.slice(0, max + 2))) {
    if (index + segment.length > max) {
      break;
    }
    end = index + segment.length;
  }
  if (end === 0) {
    const high = text.charCodeAt(max - 1);
    end = high >= 0xd800 && high <= 0xdbff ? max - 1 : max;
  }
  return text.slice(0, end);
}

/** The text whole when it has at most `max` code units, else cut as graphemePrefix allows, with "…". */
export function clampText(text: string, max: number): string {
  return text.length <= max ? text : `${graphemePrefix(text, max - 1).trimEnd()}…`;
}
