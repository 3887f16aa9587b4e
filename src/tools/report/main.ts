// `npm run report -- --from <date> --to <date> [--out <file>]`: the card report for clinical owners, one
// self-contained HTML file, read from the feedback store the service's configuration names (DATABASE_URL, or
// the SQLite file under DATA_DIR / FEEDBACK_SQLITE_FILE).
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../../config.js';
import { createPostgresStore } from '../../feedback/postgres-store.js';
import { createSqliteStore } from '../../feedback/sqlite-store.js';
import { gatherCardReport, renderCardReport } from './card-report.js';

const USAGE =
  'Usage: npm run report -- --from <YYYY-MM-DD or date-time> --to <YYYY-MM-DD or date-time, exclusive> [--out <file.html>]\n';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseDate(name: string, value: string | undefined): Date {
  const date = value ? new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    return fail(`--${name} must be a date (2026-11-01) or an RFC 3339 date-time`);
  }
  return date;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const from = parseDate('from', values.from);
const to = parseDate('to', values.to);
if (!(from < to)) {
  fail('--from must be before --to');
}
let config;
try {
  config = loadConfig();
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error));
}
const { databaseUrl, sqliteFile } = config.feedback;
if (!databaseUrl && sqliteFile !== ':memory:' && !existsSync(sqliteFile)) {
  fail(
    `No feedback store at ${sqliteFile}: set DATA_DIR, FEEDBACK_SQLITE_FILE or DATABASE_URL as for the service.`,
  );
}
const store = databaseUrl ? createPostgresStore(databaseUrl) : createSqliteStore(sqliteFile);
const source = databaseUrl
  ? `PostgreSQL ${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}`
  : `SQLite ${sqliteFile}`;
try {
  await store.migrate();
  const report = await gatherCardReport((start, end) => store.analytics(start, end), from, to);
  const out = values.out ?? `card-report-${values.from ?? ''}-${values.to ?? ''}.html`.replace(/[:]/g, '');
  writeFileSync(out, renderCardReport(report, source));
  process.stdout.write(
    `Wrote ${out} (${report.rows.length} rules, ${report.weeks.length} weeks, from ${source})\n`,
  );
} catch (error) {
  process.stderr.write(`report: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
