import { describe, expect, it } from 'vitest';
import { chronicBackPainConditions, isInGroup } from '../../src/domain/conditions.js';
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

describe('text-only conditions: what the words say', () => {
  const now = new Date('2026-11-15T12:00:00Z');
  const longAgo = '2025-06-01';

  it.each([
    'Muscle spasm',
    'Back spasms',
    'Nocturnal leg cramps',
    'Cramp in calf',
    'Muscle cramping',
    'Paraspinal muscle spasm of the lumbar region',
    'Myospasm',
    'Spasmodic torticollis',
    'Back spasming',
    'Spasm of stomach muscles',
  ])('"%s" is a cramp or spasm', (text) => {
    expect(isInGroup(condition(null, { text }), 'crampOrSpasm')).toBe(true);
  });

  it.each([
    'Bronchospasm',
    'Laryngospasm',
    'Coronary vasospasm',
    'Blepharospasm',
    'Hemifacial spasm',
    'Infantile spasms',
    'Oesophageal spasm',
    'Esophageal spasm',
    'Spasm of esophagus',
    'Spasm of accommodation',
    'Menstrual cramps',
    'Abdominal cramps',
    'Spasms of the esophagus',
    'Spasms of larynx',
    'Spasms of coronary artery',
    'Cramps of the bladder',
    'Spasm of the stomach',
    'Spasmodic dysphonia',
    'Spasmodic croup',
    'Spasmus nutans',
    'Crampy abdominal pain',
    'Cramped handwriting',
  ])('"%s" is not a muscle cramp or spasm', (text) => {
    expect(isInGroup(condition(null, { text }), 'crampOrSpasm')).toBe(false);
  });

  it.each([
    ['Acute low back pain', false],
    ['Low back pain, acute', false],
    ['Acute on chronic low back pain', true],
    ['Chronic back pain with acute exacerbation', true],
    ['Low back pain', true],
  ])('"%s" (text only, onset long ago) counts as chronic back pain: %s', (text, counted) => {
    const found = chronicBackPainConditions([condition(null, { text, onset: longAgo })], now, 12);
    expect(found.length === 1).toBe(counted);
  });
});
