import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.server).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      bodyLimitBytes: 10 * 1024 * 1024,
      publicBaseUrl: 'http://127.0.0.1:3000',
    });
    expect(config.fhir.deadlineMs).toBe(2000);
    expect(config.rateLimit).toEqual({ max: 120_000, windowMs: 60_000, authFailureMax: 30 });
    expect(config.redis).toBeNull();
    expect(config.server.trustProxy).toBe(false);
    expect(config.clinical.vitaminD.untestedWindowMonths).toBe(12);
    expect(config.clinical.b12.untestedWindowMonths).toBe(36);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', FHIR_DEADLINE_MS: '-1', LOG_LEVEL: 'loud', PUBLIC_BASE_URL: 'not a url' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'FHIR_DEADLINE_MS', 'LOG_LEVEL', 'PUBLIC_BASE_URL']) {
      expect(problems).toContain(name);
    }
  });

  it('requires a patient-hash key with PostgreSQL, so every replica hashes alike', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/cds' })).toThrow(
      /FEEDBACK_HASH_KEY is required with DATABASE_URL/,
    );
    expect(
      loadConfig({ DATABASE_URL: 'postgres://db/cds', FEEDBACK_HASH_KEY: 'k'.repeat(32) }).feedback
        .databaseUrl,
    ).toBe('postgres://db/cds');
    expect(loadConfig({}).feedback.sqliteFile).toBe('data/feedback.sqlite');
  });

  it('strips a trailing slash from the public base URL', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://cds.example.org/' }).server.publicBaseUrl).toBe(
      'https://cds.example.org',
    );
  });

  it('reads clinical overrides from a file and validates them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clinical-'));
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ vitaminD: { targetNgMl: 32 } }));
    const config = loadConfig({ CLINICAL_CONFIG_FILE: good });
    expect(config.clinical.vitaminD.targetNgMl).toBe(32);
    expect(config.clinical.vitaminD.deficientBelowNgMl).toBe(20);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ vitaminD: { targetNgMl: 10 } }));
    expect(() => loadConfig({ CLINICAL_CONFIG_FILE: bad })).toThrow(
      /deficientBelowNgMl must be below vitaminD\.targetNgMl/,
    );
    await writeFile(bad, JSON.stringify({ b12: { typo: 1 } }));
    expect(() => loadConfig({ CLINICAL_CONFIG_FILE: bad })).toThrow(/typo/);
    expect(() => loadConfig({ CLINICAL_CONFIG_FILE: join(dir, 'missing.json') })).toThrow(/cannot read/);
  });
});
