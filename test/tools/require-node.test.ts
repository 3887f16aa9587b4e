import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };

const SCRIPT = fileURLToPath(new URL('../../src/tools/require-node.mjs', import.meta.url));
const SYSTEM_NODE = '/usr/bin/node';
const systemMajor = existsSync(SYSTEM_NODE)
  ? Number(/^v(\d+)/.exec(execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }))?.[1])
  : undefined;

describe('npm start checks the Node version first (prestart)', () => {
  it('is wired into prestart, before the build', () => {
    expect(packageJson.scripts.prestart).toMatch(/^node src\/tools\/require-node\.mjs && /);
  });

  it('lets a new enough Node through', () => {
    expect(spawnSync(process.execPath, [SCRIPT]).status).toBe(0);
  });

  it.skipIf(systemMajor === undefined || systemMajor >= 22)(
    `stops an older Node with what to do (needs an older system Node at ${SYSTEM_NODE})`,
    () => {
      const result = spawnSync(SYSTEM_NODE, [SCRIPT], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`This service needs Node.js ${packageJson.engines.node}`);
      expect(result.stderr).toMatch(/Install Node 24 \(for example `nvm install`/);
    },
  );
});
