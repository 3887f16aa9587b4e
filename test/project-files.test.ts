import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

describe('project files', () => {
  it('LICENSE is the full Apache-2.0 text that package.json names', () => {
    expect(packageJson.license).toBe('Apache-2.0');
    const license = read('LICENSE');
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it('SECURITY.md, CONTRIBUTING.md and CHANGELOG.md say what they must', () => {
    expect(read('SECURITY.md')).toMatch(/## Reporting a vulnerability[\s\S]*## In scope/);
    expect(read('CONTRIBUTING.md')).toMatch(
      /## Set-up[\s\S]*## Tests[\s\S]*## Style[\s\S]*## How to add a rule/,
    );
    expect(read('CHANGELOG.md')).toContain('## [Unreleased]');
    expect(read('cds-hooks/POLICY.md')).toMatch(
      /rule VD[\s\S]*rule SP[\s\S]*rules B12, B12-NEW-DRUG, FOLIC-ACID/,
    );
  });

  it('.nvmrc, the project Node and the image agree on Node 24', () => {
    expect(read('.nvmrc').trim()).toBe('24');
    expect(packageJson.devDependencies.node).toMatch(/^\^?24\./);
    for (const base of read('Dockerfile').matchAll(/^FROM node:(\d+)/gm)) {
      expect(base[1]).toBe('24');
    }
  });

  it('README links only to files inside the repository, and they exist', () => {
    const links = [...read('README.md').matchAll(/\]\(([^)]+)\)/g)].map((match) => match[1] ?? '');
    const local = links.filter((link) => !/^(https?:|#)/.test(link));
    expect(local.length).toBeGreaterThan(0);
    for (const link of local) {
      expect(link, link).not.toMatch(/^(\/|\.\.\/)/);
      expect(existsSync(`${ROOT}${link.split('#')[0] ?? ''}`), link).toBe(true);
    }
  });
});
