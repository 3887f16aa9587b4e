import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoPatients } from '../src/tools/sandbox/demo-patients.js';
import { type FhirSandbox, startFhirSandbox } from '../src/tools/sandbox/fhir-sandbox.js';
import { buildTestApp } from './helpers/build-app.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
/** Put just before a code block whose commands cannot run on a build machine, with the reason. */
const NOT_RUN = /^<!-- readme-test: not run here: (.+) -->$/;

export interface ReadmeCommand {
  readonly line: number;
  readonly command: string;
  /** Why the test does not run it (the README says so beside it); undefined: it runs. */
  readonly notRun: string | undefined;
}

const quotes = (text: string): number => text.match(/'/g)?.length ?? 0;

/** `npm run demo   # what it does`: the comment goes (an apostrophe in it is not a quote). */
function withoutComment(line: string): string {
  const comment = /\s#\s/.exec(line);
  return comment && quotes(line.slice(0, comment.index)) % 2 === 0 ? line.slice(0, comment.index) : line;
}

/** Shell lines are joined over `\` ends and over line breaks inside single quotes, as sh reads them. */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split('\n');
  const commands: ReadmeCommand[] = [];
  let inBlock = false;
  let notRun: string | undefined;
  let pending: { line: number; text: string } | undefined;
  lines.forEach((line, index) => {
    if (line.startsWith('```')) {
      if (!inBlock) {
        const before = lines.slice(0, index).findLast((previous) => previous.trim() !== '') ?? '';
        notRun = NOT_RUN.exec(before.trim())?.[1];
      }
      inBlock = !inBlock;
      return;
    }
    if (!inBlock) {
      return;
    }
    const text = pending ? `${pending.text}\n${line}` : withoutComment(line);
    const start = pending?.line ?? index + 1;
    const openQuote = quotes(text) % 2 === 1;
    if (openQuote || text.endsWith('\\')) {
      pending = { line: start, text };
      return;
    }
    pending = undefined;
    const command = text.replace(/\\\n\s*/g, '').trim();
    if (/^(curl |npm run hook\b)/.test(command)) {
      commands.push({ line: start, command, notRun });
    }
  });
  return commands;
}

/** A usage line (`--patient <id>`) shows the syntax; it is not an example to run. */
const isSynopsis = (command: string): boolean => /<[a-z][\w -]*>/.test(command.replace(/'[^']*'/g, ''));

describe('the README parser', () => {
  it('joins continued lines and quoted bodies, and reads the not-run marker', () => {
    const markdown = [
      '```sh',
      "curl -s x -d '{",
      '  "a": 1',
      "}' | jq .",
      'npm run hook -- a b \\',
      '  --patient p',
      "npm run demo   # the demo's patients",
      "npm run hook -- e f --patient r # it's here",
      '```',
      '<!-- readme-test: not run here: needs Docker -->',
      '',
      '```sh',
      'npm run hook -- c d --patient q',
      '```',
    ].join('\n');
    expect(readmeCommands(markdown)).toEqual([
      { line: 2, command: 'curl -s x -d \'{\n  "a": 1\n}\' | jq .', notRun: undefined },
      { line: 5, command: 'npm run hook -- a b --patient p', notRun: undefined },
      { line: 8, command: 'npm run hook -- e f --patient r', notRun: undefined },
      { line: 13, command: 'npm run hook -- c d --patient q', notRun: 'needs Docker' },
    ]);
  });
});

const commands = readmeCommands(README);
const runnable = commands.filter((entry) => !entry.notRun && !isSynopsis(entry.command));
const jqMissing = await run('jq', ['--version']).then(
  () => false,
  () => true,
);

describe('README examples', () => {
  it('has examples to run, and says why of each one it does not', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(5);
    for (const entry of commands.filter((candidate) => candidate.notRun)) {
      expect(entry.notRun?.length, `README.md line ${entry.line}`).toBeGreaterThan(10);
    }
  });

  describe.skipIf(jqMissing)('against the demo (sandbox FHIR server and service)', () => {
    let sandbox: FhirSandbox;
    let app: FastifyInstance;
    let serviceUrl: string;

    beforeAll(async () => {
      // Open, as `npm run sandbox` is: it accepts the README's tokens.
      sandbox = await startFhirSandbox({});
      await sandbox.load(loadDemoPatients().flatMap((patient) => patient.resources));
      app = await buildTestApp({ now: new Date() });
      serviceUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterAll(async () => {
      await app.close();
      await sandbox.close();
    });

    /** The README's ports are the defaults; the test's servers listen on free ones. */
    function localise(command: string): string {
      let local = command
        .replaceAll(/(localhost|127\.0\.0\.1):3000/g, serviceUrl.replace('http://', ''))
        .replaceAll('http://127.0.0.1:8103/fhir/R4', sandbox.baseUrl);
      if (local.startsWith('npm run hook')) {
        local += local.includes('--service') ? '' : ` --service ${serviceUrl}`;
        local += local.includes('--fhir') ? '' : ` --fhir ${sandbox.baseUrl}`;
      }
      return local;
    }

    it.each(runnable.map((entry) => [entry.line, entry.command] as const))(
      'README.md line %i runs as written',
      async (_line, command) => {
        const { stdout } = await run('bash', ['-o', 'pipefail', '-c', localise(command)], {
          cwd: ROOT,
          timeout: 60_000,
        });
        expect(stdout.trim()).not.toBe('');
        expect(stdout).not.toMatch(/answered \d{3}/);
      },
      90_000,
    );
  });
});
