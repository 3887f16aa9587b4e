import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clampText, graphemePrefix, markdownText, plainLine } from '../../src/domain/card-text.js';
import { escapeHtml, renderGfm } from '../helpers/markdown.js';
import { propertyRuns } from '../helpers/property-runs.js';

/** Text with the characters Markdown and Unicode tricks are made of, beside ordinary letters. */
const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .array(
      fc.constantFrom(
        ...'\\`*_~[]()!<>&#;:/@.|$^{}=+-0123456789 \t\n\r'.split(''),
        'www.',
        'http://',
        'https://',
        'mailto:',
        'a@b.co',
        '&amp;',
        '&#x202e;',
        '<img src=x>',
        '<!--',
        '```',
        '    ',
        '\u202e',
        '\u2066',
        '\u200b',
        '\u0085',
        '\u2028',
        '\ud83d',
        '😀',
        'e\u0301',
        'a',
        'Z',
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join('')),
);

describe('plainLine: EHR text as one line of plain text', () => {
  it.each([
    ['Back pain\n\n# STOP ALL VITAMIN D\n\u202eesrever', 'Back pain # STOP ALL VITAMIN D esrever'],
    ['a\u0000b\u001fc\u007fd\u0085e\u009ff', 'a b c d e f'],
    ['\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069i', 'abcdefghi'],
    ['zero\u200bwidth\u200c\u200d\u2060\ufeff joiners', 'zerowidth joiners'],
    ['  tabs\t\tand\u00a0\u2028\u2029 spaces  ', 'tabs and spaces'],
    ['half a pair \ud83d', 'half a pair \ufffd'],
  ])('%j is %j', (text, expected) => {
    expect(plainLine(text)).toBe(expected);
  });

  it('gives clean text back as it is', () => {
    const text = 'Lumbosacral radiculopathy (disorder) <8 ng/mL: 😀 é';
    expect(plainLine(text)).toBe(text);
  });

  it('never leaves a control, format or line-breaking character, a lone surrogate or a double space', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const line = plainLine(text);
        expect(line).not.toMatch(/[\p{Cc}\p{Cf}\u2028\u2029]|\s{2}|^\s|\s$/u);
        expect(line.isWellFormed()).toBe(true);
        expect(plainLine(line)).toBe(line);
      }),
      { numRuns: propertyRuns(2000) },
    );
  });
});

describe('markdownText: EHR text that renders as itself', () => {
  it.each([
    '<img src=x onerror=alert(1)> [Click for dosing](https://evil.example/phish) **bold**',
    '# STOP ALL VITAMIN D',
    '> quoted',
    '- nested item',
    '+ nested item',
    '1. ordered',
    '2) ordered',
    '---',
    '| a | b |',
    '`code` and ```fences```',
    '~~struck~~ _em_ *em* __strong__',
    'see www.evil.example or https://evil.example or ftp://evil.example',
    'write to someone@evil.example or mailto:someone@evil.example',
    '<https://evil.example> <someone@evil.example>',
    '&#x202e;reversed &amp; &lt;b&gt;',
    '[ref]: https://evil.example',
    '[^1] and ![alt](https://evil.example/x.png)',
    '<!-- comment --> <?php ?> <![CDATA[x]]> </div>',
    'ends with a backslash\\',
    '$x^2$',
  ])('%j is literal text, not markup', (text) => {
    expect(renderGfm(`- ${markdownText(text)}`)).toBe(`<ul>\n<li>${escapeHtml(text)}</li>\n</ul>`);
  });

  it('leaves the clinical wording of a fact as it is written', () => {
    const fact = '25-hydroxyvitamin D: <8 ng/mL (<20 nmol/L) on 2026-10-01; B12 & folate, 15.5 ng/mL';
    expect(markdownText(fact)).toBe(fact);
  });

  it('whatever the text, renders exactly its plain line, in a list item and inside a sentence', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const plain = escapeHtml(plainLine(text));
        expect(renderGfm(`- ${markdownText(text)}`)).toBe(`<ul>\n<li>${plain}</li>\n</ul>`);
        expect(renderGfm(`The patient takes ${markdownText(text)} daily.`)).toBe(
          `<p>The patient takes ${plain} daily.</p>`,
        );
      }),
      { numRuns: propertyRuns(3000) },
    );
  });
});

describe('graphemePrefix and clampText: cuts between whole characters', () => {
  it('never splits a surrogate pair', () => {
    const text = `a${'😀'.repeat(30)}`;
    for (let max = 1; max <= text.length; max++) {
      const prefix = graphemePrefix(text, max);
      expect(prefix.isWellFormed(), `max ${max}`).toBe(true);
      expect(prefix.length).toBeLessThanOrEqual(max);
      expect(prefix.length).toBeGreaterThanOrEqual(max - 1);
    }
  });

  it.each([
    ['an accent stays with its letter', 'cafe\u0301 au lait', 4, 'caf'],
    ['a skin tone stays with its hand', 'ok 👍🏽 thanks', 5, 'ok '],
    ['a family stays whole', 'x👨‍👩‍👧y', 4, 'x'],
    ['a flag stays whole', 'FR🇫🇷', 4, 'FR'],
    ['plain Latin is cut where asked', 'Lumbar spinal fusion', 6, 'Lumbar'],
  ])('%s', (_label, text, max, expected) => {
    expect(graphemePrefix(text, max)).toBe(expected);
  });

  it('cuts a single grapheme longer than the limit between code points', () => {
    const zalgo = `a${'\u0301'.repeat(200)}`;
    expect(graphemePrefix(zalgo, 10)).toBe(zalgo.slice(0, 10));
    expect(graphemePrefix('😀😀', 1)).toBe('');
  });

  it('always gives a well-formed start of the text within the limit', () => {
    fc.assert(
      fc.property(hostileText, fc.integer({ min: 1, max: 40 }), (text, max) => {
        const well = text.toWellFormed();
        const prefix = graphemePrefix(well, max);
        expect(well.startsWith(prefix)).toBe(true);
        expect(prefix.length).toBeLessThanOrEqual(max);
        expect(prefix.isWellFormed()).toBe(true);
        const clamped = clampText(well, max);
        expect(clamped.length).toBeLessThanOrEqual(max);
        expect(clamped.isWellFormed()).toBe(true);
      }),
      { numRuns: propertyRuns(3000) },
    );
  });

  it('keeps text within the limit whole', () => {
    expect(clampText('short', 139)).toBe('short');
    expect(clampText('x'.repeat(200), 139)).toBe(`${'x'.repeat(138)}…`);
  });
});
