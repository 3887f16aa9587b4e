import { v5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { uuidv5 } from '../../src/domain/uuid-v5.js';

describe('uuidv5', () => {
  it.each(['a', 'hook-1|vitamin-d-back-pain|VD', 'ünïcødé|✓', ''])(
    'matches the uuid package for %j',
    (name) => {
      expect(uuidv5(name)).toBe(v5(name, '3f1d8c52-8f7e-4c1a-9a57-6f4a3c1b2e90'));
    },
  );
});
