import { describe, expect, it } from 'vitest';
import { isInGroup } from '../../src/domain/conditions.js';
import { condition, icd10, snomed } from '../helpers/builders.js';

describe('isInGroup: codes first, the text only for a condition coded in neither terminology', () => {
  const text = 'Low back pain';

  it.each([
    ['a SNOMED CT code outside the group', snomed('195967001', 'Asthma')],
    ['an ICD-10-CM code outside the group', icd10('J45.909', 'Asthma')],
  ])('%s wins over a text that would match', (_name, coding) => {
    expect(isInGroup(condition(coding, { text }), 'backPain')).toBe(false);
  });

  it.each([
    ['no coding', null],
    ['a local code', { system: 'urn:local:problems', code: 'LBP', display: 'LBP' }],
    ['an empty SNOMED CT code', { system: 'http://snomed.info/sct', code: '', display: 'x' }],
    ['an empty ICD-10-CM code', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: '', display: 'x' }],
  ])('with %s, the text decides', (_name, coding) => {
    expect(isInGroup(condition(coding, { text }), 'backPain')).toBe(true);
    expect(isInGroup(condition(coding, { text: 'Asthma' }), 'backPain')).toBe(false);
  });
});
