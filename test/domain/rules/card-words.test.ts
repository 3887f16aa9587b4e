import { describe, expect, it } from 'vitest';
import { shortLabel } from '../../../src/domain/rules/card-words.js';

describe('shortLabel', () => {
  it('never cuts a surrogate pair in two', () => {
    const label = shortLabel(`a${'😀'.repeat(30)}`);
    expect(label.isWellFormed()).toBe(true);
    expect(label).toBe(`a${'😀'.repeat(19)}…`);
  });

  it('keeps an accent with its letter', () => {
    expect(shortLabel(`${'x'.repeat(39)}e\u0301 and more`)).toBe(`${'x'.repeat(39)}…`);
  });

  it('measures and returns the one plain line a summary shows', () => {
    expect(shortLabel('Back pain\n\n# STOP\u202e')).toBe('Back pain # STOP');
    // 41 zero-width spaces are no text: the name is short, not cut.
    expect(shortLabel(`Low back pain${'\u200b'.repeat(41)}`)).toBe('Low back pain');
  });
});
