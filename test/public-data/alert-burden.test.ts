import { describe, expect, it } from 'vitest';
import type { CdsCardOut } from '../../src/domain/findings.js';
import { runService } from '../helpers/build-app.js';
import {
  hasPublicData,
  loadPublicPatients,
  type PublicPatient,
} from '../../src/tools/sandbox/public-data.js';

const SERVICES = ['vitamin-d-back-pain', 'spine-preop-vitamin-d', 'b12-drug-risk'] as const;

/** Patients the data's README says carry none of the target conditions or drugs. */
const NEGATIVE_CONTROLS = new Set(['Paris Casper']);
const BULK_WITH_TARGETS = new Set(['ca15b832', 'fb7c882a', '79a66c97', '8e1a0a7c']);

describe.skipIf(!hasPublicData)('public Synthea and SMART patients (../shared/fhir-data)', () => {
  const patients: PublicPatient[] = hasPublicData ? loadPublicPatients() : [];
  const results = new Map<string, CdsCardOut[]>();

  it('loads every patient', () => {
    expect(patients.filter((patient) => patient.source === 'synthea-r4-2019')).toHaveLength(9);
    expect(patients.filter((patient) => patient.source === 'synthea-bulk-2023')).toHaveLength(13);
    expect(patients.filter((patient) => patient.source === 'smart-stu3')).toHaveLength(13);
  });

  it('runs every patient through all three services without an error', async () => {
    for (const patient of patients) {
      const cards: CdsCardOut[] = [];
      for (const service of SERVICES) {
        cards.push(
          ...(await runService(service, { resources: patient.resources, patientId: patient.patientId })),
        );
      }
      results.set(`${patient.source} ${patient.label}`, cards);
    }
    expect(results.size).toBe(patients.length);

    // The alert burden: how many patients get which card.
    const burden = new Map<string, number>();
    for (const cards of results.values()) {
      for (const card of cards) {
        const key = `${card.source.topic.code} ${card.indicator}`;
        burden.set(key, (burden.get(key) ?? 0) + 1);
      }
    }
    const withCards = [...results.values()].filter((cards) => cards.length > 0).length;
    const lines = [...burden.entries()].sort().map(([key, count]) => `  ${key.padEnd(24)} ${count}`);
    console.log(
      `Alert burden over ${results.size} public patients (${withCards} with any card):\n${lines.join('\n')}`,
    );
    for (const [label, cards] of results) {
      if (cards.length > 0) {
        console.log(`  ${label}: ${cards.map((card) => card.summary).join(' | ')}`);
      }
    }
  });

  it('gives the negative controls no card', () => {
    const negatives = [...results.entries()].filter(([label]) => {
      const [source, name] = [label.split(' ')[0], label.split(' ').slice(1).join(' ')];
      return (
        (source === 'synthea-r4-2019' && NEGATIVE_CONTROLS.has(name)) ||
        (source === 'synthea-bulk-2023' && !BULK_WITH_TARGETS.has(name))
      );
    });
    expect(negatives.length).toBe(10);
    for (const [label, cards] of negatives) {
      expect(cards, label).toEqual([]);
    }
  });

  it('flags the patients the data was chosen for', () => {
    const topics = (label: string) => (results.get(label) ?? []).map((card) => card.source.topic.code);
    // Chronic pain and metformin, no vitamin D or B12 lab in Synthea: untested cards.
    expect(topics('synthea-r4-2019 Danae Kshlerin')).toEqual(['VD', 'B12']);
    // Chronic low back and neck pain.
    expect(topics('synthea-bulk-2023 ca15b832')).toEqual(['VD']);
    // Deceased metformin user: nothing.
    expect(topics('synthea-bulk-2023 79a66c97')).toEqual([]);
  });
});
