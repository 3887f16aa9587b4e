import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackItem, FeedbackStore, ShownCard } from '../../../src/feedback/feedback-store.js';
import { createSqliteStore } from '../../../src/feedback/sqlite-store.js';
import { gatherCardReport, renderCardReport } from '../../../src/tools/report/card-report.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const FROM = new Date('2026-11-02T00:00:00Z');
const TO = new Date('2026-11-23T00:00:00Z');
const day = (n: number, hour = 10): Date => new Date(Date.UTC(2026, 10, n, hour));

function shown(uuid: string, serviceId: string, ruleId: string, at: Date): ShownCard {
  return {
    cardUuid: uuid,
    serviceId,
    ruleId,
    patientKey: `p-${uuid}`,
    hookInstance: `h-${uuid}`,
    issuer: 'iss',
    tenant: '',
    shownAt: at,
  };
}

function outcome(
  card: ShownCard,
  result: 'accepted' | 'overridden',
  reason: string | undefined,
  at: Date,
): FeedbackItem & { itemKey: string } {
  return {
    itemKey: `${card.cardUuid}-${result}`,
    cardUuid: card.cardUuid,
    serviceId: card.serviceId,
    ruleId: card.ruleId,
    hookInstance: card.hookInstance,
    outcome: result,
    acceptedSuggestions: [],
    overrideReasonSystem: reason ? 'https://vitamin-cds.example.org/override-reason' : undefined,
    overrideReasonCode: reason,
    overrideComment: undefined,
    outcomeTimestamp: at,
    issuer: 'iss',
    tenant: '',
  };
}

/** Cards over three weeks (and one outside the range on each side), with outcomes and reasons. */
async function seed(store: FeedbackStore): Promise<void> {
  const cards: ShownCard[] = [];
  const rules = [
    ['vitamin-d-back-pain', 'VD'],
    ['spine-preop-vitamin-d', 'SP'],
    ['b12-drug-risk', 'B12'],
    ['b12-drug-risk', 'FOLIC-ACID'],
  ] as const;
  let n = 0;
  for (const date of [1, 3, 4, 9, 10, 12, 16, 17, 18, 22, 23]) {
    for (const [serviceId, ruleId] of rules.slice(0, 1 + (date % 4))) {
      cards.push(shown(`c${(n += 1)}`, serviceId, ruleId, day(date)));
    }
  }
  await store.recordShown(cards);
  const reasons = ['tested-elsewhere', 'patient-declined', 'not-clinically-indicated', undefined];
  await store.saveFeedback(
    cards
      .filter((_card, index) => index % 3 !== 2)
      .map((card, index) =>
        index % 2 === 0
          ? outcome(card, 'accepted', undefined, new Date(card.shownAt.getTime() + 3_600_000))
          : outcome(card, 'overridden', reasons[index % 4], new Date(card.shownAt.getTime() + 3_600_000)),
      ),
    [],
  );
}

/** Every number the page shows, by its data attributes, from the DOM Chromium rendered. */
function numbersShown(dom: string): Map<string, number> {
  const numbers = new Map<string, number>();
  for (const match of dom.matchAll(/<td class="n" ([^>]*)>(\d+)<\/td>/g)) {
    const attributes = Object.fromEntries(
      [...(match[1] ?? '').matchAll(/data-([a-z]+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    const key = attributes['week']
      ? `week ${attributes['week']} ${attributes['metric']}`
      : attributes['reason']
        ? `${attributes['service']} ${attributes['rule']} reason ${attributes['reason']}`
        : `${attributes['service']} ${attributes['rule']} ${attributes['metric']}`;
    numbers.set(key, Number(match[2]));
  }
  return numbers;
}

describe('npm run report', () => {
  let directory: string;
  let store: FeedbackStore;
  let file: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'card-report-'));
    file = join(directory, 'feedback.sqlite');
    store = createSqliteStore(file);
    await store.migrate();
    await seed(store);
  });
  afterAll(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('reads the range and each ISO week from the store', async () => {
    const report = await gatherCardReport((from, to) => store.analytics(from, to), FROM, TO);
    expect(report.weeks.map((week) => week.start.toISOString().slice(0, 10))).toEqual([
      '2026-11-02',
      '2026-11-09',
      '2026-11-16',
    ]);
    expect(report.rows).toEqual(await store.analytics(FROM, TO));
    const shownInRange = report.rows.reduce((total, row) => total + row.shown, 0);
    expect(shownInRange).toBeGreaterThan(0);
    expect(renderCardReport(report, 'test')).toContain(`data-total="shown">${shownInRange}<`);
    await expect(gatherCardReport(() => Promise.resolve([]), TO, FROM)).rejects.toThrow(/before/);
  });

  it('writes one self-contained HTML file', async () => {
    const out = join(directory, 'report.html');
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/tools/report/main.ts',
        '--from',
        '2026-11-02',
        '--to',
        '2026-11-23',
        '--out',
        out,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, FEEDBACK_SQLITE_FILE: file },
        timeout: 30_000,
      },
    );
    expect(stdout).toMatch(/Wrote .*report\.html \(4 rules, 3 weeks/);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|@import|url\(/i);
  }, 60_000);

  it('refuses a missing store and a bad range with a clear message', async () => {
    const missing = await run(
      process.execPath,
      ['--import', 'tsx', 'src/tools/report/main.ts', '--from', '2026-11-02', '--to', '2026-11-01'],
      {
        cwd: ROOT,
        env: { ...process.env, FEEDBACK_SQLITE_FILE: file },
      },
    ).catch((error: unknown) => error as { code: number; stderr: string });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('--from must be before --to') });
    const noStore = await run(
      process.execPath,
      ['--import', 'tsx', 'src/tools/report/main.ts', '--from', '2026-11-02', '--to', '2026-11-09'],
      {
        cwd: ROOT,
        env: { ...process.env, FEEDBACK_SQLITE_FILE: join(directory, 'nothing-here.sqlite') },
      },
    ).catch((error: unknown) => error as { code: number; stderr: string });
    expect(noStore).toMatchObject({ code: 2, stderr: expect.stringContaining('No feedback store at') });
  }, 60_000);

  it.skipIf(!existsSync(CHROMIUM))(
    'shows, in headless Chromium, the numbers the store holds (skipped without /usr/bin/chromium: apt-get install chromium)',
    async () => {
      const report = await gatherCardReport((from, to) => store.analytics(from, to), FROM, TO);
      const page = join(directory, 'page.html');
      await writeFile(page, renderCardReport(report, 'SQLite test store'));
      const { stdout: dom } = await run(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
          `--user-data-dir=${join(directory, 'profile')}`,
          '--dump-dom',
          `file://${page}`,
        ],
        { timeout: 60_000, maxBuffer: 10 * 1024 * 1024 },
      );
      const numbers = numbersShown(dom);
      const expected = new Map<string, number>();
      for (const row of await store.analytics(FROM, TO)) {
        expected.set(`${row.serviceId} ${row.ruleId} shown`, row.shown);
        expected.set(`${row.serviceId} ${row.ruleId} accepted`, row.accepted);
        expected.set(`${row.serviceId} ${row.ruleId} overridden`, row.overridden);
        for (const [reason, count] of Object.entries(row.overrideReasons)) {
          expected.set(`${row.serviceId} ${row.ruleId} reason ${reason}`, count);
        }
      }
      for (const [start, end] of [
        ['2026-11-02', '2026-11-09'],
        ['2026-11-09', '2026-11-16'],
        ['2026-11-16', '2026-11-23'],
      ] as const) {
        const rows = await store.analytics(new Date(`${start}T00:00:00Z`), new Date(`${end}T00:00:00Z`));
        for (const metric of ['shown', 'accepted', 'overridden'] as const) {
          expected.set(
            `week ${start} ${metric}`,
            rows.reduce((total, row) => total + row[metric], 0),
          );
        }
      }
      expect(numbers).toEqual(expected);
      // The seed is not trivial: every metric and reason has something to count.
      expect([...expected.values()].filter((value) => value > 0).length).toBeGreaterThan(20);
      expect(dom).toMatch(/data-total="acceptance">\d+%/);
    },
    90_000,
  );
});
