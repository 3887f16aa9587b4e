import { describe, expect, it } from 'vitest';
import { classifyConcept } from '../../src/domain/medications.js';
import { METFORMIN } from '../helpers/builders.js';

describe('classifyConcept', () => {
  it('reads a code as RxNorm only under the RxNorm system', () => {
    expect(classifyConcept({ coding: [METFORMIN] }).has('metformin')).toBe(true);
    const elsewhere = { ...METFORMIN, system: 'urn:local:formulary', display: 'Formulary item 7' };
    expect(classifyConcept({ coding: [elsewhere] }).has('metformin')).toBe(false);
  });
});
