// `npm start` runs this first (prestart), on whatever Node is on the PATH, before anything needs a newer one:
// an older Node would otherwise fail later on `node:sqlite` or a syntax error, with no word on what to do.
// Plain JavaScript with only node: imports, so that it runs on any Node.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const required = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).engines
  .node;
const [wantMajor = 0, wantMinor = 0] = /(\d+)\.(\d+)/.exec(required)?.slice(1).map(Number) ?? [];
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
  process.stderr.write(
    `This service needs Node.js ${required} (Node 24 LTS, as in .nvmrc); this is Node ${process.versions.node} (${process.execPath}).\n` +
      'Install Node 24 (for example `nvm install` in this directory), or run `npm ci` with the development\n' +
      "dependencies: they include the project's own Node 24, which every npm script then uses.\n",
  );
  process.exit(1);
}
