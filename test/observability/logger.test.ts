import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loggerOptions, PrettyLogsUnavailableError } from '../../src/observability/logger.js';

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const SCRIPT = '/usr/bin/script';

describe('logger options', () => {
  it('writes JSON unless LOG_PRETTY asks for pretty lines', () => {
    expect(loadConfig({}).log.pretty).toBe(false);
    expect(loadConfig({ LOG_PRETTY: 'true' }).log.pretty).toBe(true);
    expect(loggerOptions('info')).not.toHaveProperty('transport');
    expect(loggerOptions('info', true, () => true)).toMatchObject({ transport: { target: 'pino-pretty' } });
  });

  it('refuses LOG_PRETTY=true with a clear message where pino-pretty is not installed', () => {
    expect(() => loggerOptions('info', true, () => false)).toThrow(PrettyLogsUnavailableError);
    expect(() => loggerOptions('info', true, () => false)).toThrow(/unset LOG_PRETTY/);
    expect(() => loggerOptions('info', false, () => false)).not.toThrow();
  });

  it.skipIf(!existsSync(SCRIPT))(
    'a server started on a terminal (docker run -it) still writes JSON lines',
    async () => {
      // script(1) gives the server a pseudo-terminal as stdout, as `docker run -it` does.
      const command = `'${process.execPath}' --import tsx '${SERVER}'`;
      const output = await new Promise<string>((resolve) => {
        const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], {
          env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', FEEDBACK_SQLITE_FILE: ':memory:' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let seen = '';
        const collect = (chunk: Buffer): void => {
          seen += chunk.toString();
          if (seen.includes('CDS Hooks discovery at')) {
            child.kill('SIGTERM');
          }
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.on('exit', () => {
          clearTimeout(timer);
          resolve(seen);
        });
      });
      const discovery = output.split(/\r?\n/).find((line) => line.includes('CDS Hooks discovery at'));
      expect(discovery, output).toBeDefined();
      expect(JSON.parse(discovery ?? '')).toMatchObject({ level: 'info' });
    },
  );
});
