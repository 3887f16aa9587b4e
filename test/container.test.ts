import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

interface ComposeService {
  readonly image?: string;
  readonly healthcheck?: { readonly test: readonly string[] };
  readonly depends_on?: Record<string, { readonly condition: string }> | readonly string[];
}

describe('container files', () => {
  it('pin every base image to an exact release or a digest', () => {
    const bases = [...read('Dockerfile').matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1] ?? '');
    const external = bases.filter((base) => base.includes(':') || base.includes('@'));
    expect(external.length).toBeGreaterThan(0);
    for (const base of external) {
      expect(base).toMatch(/@sha256:[0-9a-f]{64}$|:\d+\.\d+\.\d+[\w.-]*$/);
    }
  });

  it('compose health-checks HAPI and loads the demo only once it is healthy', () => {
    const compose = parse(read('docker/compose.yaml')) as { services: Record<string, ComposeService> };
    const hapi = compose.services['hapi'];
    expect(hapi?.healthcheck?.test.join(' ')).toContain('/fhir/metadata');
    expect(compose.services['load-demo']?.depends_on).toMatchObject({
      hapi: { condition: 'service_healthy' },
    });
  });
});
