import { describe, expect, it } from 'vitest';
import { conceptLabel } from '../../src/domain/codings.js';
import { chronicLowBackPain } from '../helpers/builders.js';
import { runService } from '../helpers/build-app.js';

describe('conceptLabel', () => {
  it.each(['', ' ', '\u200b', '\u202e\u2066\u2069', '\n\t'])(
    'passes over a text with nothing visible (%j) for the first display that has some',
    (text) => {
      expect(
        conceptLabel({ text, coding: [{ display: '\u200b' }, { display: 'Chronic low back pain' }] }),
      ).toBe('Chronic low back pain');
    },
  );

  it('leaves a blank nowhere in a summary', async () => {
    const [card] = await runService('vitamin-d-back-pain', {
      resources: [chronicLowBackPain({ text: '\u200b\u202e' })],
    });
    expect(card?.summary).toMatch(/^Chronic low back pain and no vitamin D test/);
  });
});
