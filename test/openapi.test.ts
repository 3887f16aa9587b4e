import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderOpenApi } from '../src/openapi.js';

describe('openapi.yaml', () => {
  it('matches the routes (run `npm run openapi:write` after changing them)', async () => {
    const committed = await readFile(new URL('../openapi.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(await renderOpenApi());
  });

  it('describes every endpoint', async () => {
    const document = parse(await renderOpenApi()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(document.paths).sort()).toEqual([
      '/analytics/cards',
      '/cds-services',
      '/cds-services/{id}',
      '/cds-services/{id}/feedback',
      '/healthz',
      '/metrics',
      '/readyz',
    ]);
    expect(Object.keys(document.paths['/cds-services/{id}'] ?? {})).toEqual(['post']);
  });
});
