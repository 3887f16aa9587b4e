import { addWeeks, max, min, startOfISOWeek } from 'date-fns';
import type { AnalyticsRow } from '../../feedback/feedback-store.js';

/** What the report shows: the totals of the range per service and rule, and the same counts per week. */
export interface CardReport {
  readonly from: Date;
  readonly to: Date;
  readonly rows: readonly AnalyticsRow[];
  readonly weeks: readonly { readonly start: Date; readonly rows: readonly AnalyticsRow[] }[];
}

/** The most weeks one report draws; a longer range is refused rather than drawn unreadably. */
export const MAX_REPORT_WEEKS = 260;

/**
 * Reads the report's numbers from the feedback store: the whole range, then each ISO week (Monday to
 * Monday, UTC) that overlaps it, clipped to the range.
 * @param analytics - the store's analytics query
 */
export async function gatherCardReport(
  analytics: (from: Date, to: Date) => Promise<AnalyticsRow[]>,
  from: Date,
  to: Date,
): Promise<CardReport> {
  if (!(from < to)) {
    throw new RangeError('--from must be before --to');
  }
  const starts: Date[] = [];
  for (let start = startOfISOWeek(from); start < to; start = addWeeks(start, 1)) {
    starts.push(start);
    if (starts.length > MAX_REPORT_WEEKS) {
      throw new RangeError(`a report covers at most ${MAX_REPORT_WEEKS} weeks`);
    }
  }
  const weeks = [];
  for (const start of starts) {
    weeks.push({ start, rows: await analytics(max([start, from]), min([addWeeks(start, 1), to])) });
  }
  return { from, to, rows: await analytics(from, to), weeks };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const day = (date: Date): string => date.toISOString().slice(0, 10);
const percent = (part: number, whole: number): string =>
  whole === 0 ? '–' : `${Math.round((part / whole) * 100)}%`;
const sum = (rows: readonly AnalyticsRow[], pick: (row: AnalyticsRow) => number): number =>
  rows.reduce((total, row) => total + pick(row), 0);

const COLOURS = { shown: '#8c959f', accepted: '#1a7f37', overridden: '#cf222e' } as const;

/** One horizontal bar: accepted and overridden as parts of shown. */
function outcomeBar(row: AnalyticsRow, widest: number): string {
  const width = 240;
  const scale = widest === 0 ? 0 : width / widest;
  const shown = Math.max(row.shown, row.accepted + row.overridden);
  return `<svg width="${width}" height="14" role="img" aria-label="${row.accepted} accepted and ${row.overridden} overridden of ${row.shown} shown">
<rect width="${(shown * scale).toFixed(1)}" height="14" fill="${COLOURS.shown}" opacity="0.35"/>
<rect width="${(row.accepted * scale).toFixed(1)}" height="14" fill="${COLOURS.accepted}"/>
<rect x="${(row.accepted * scale).toFixed(1)}" width="${(row.overridden * scale).toFixed(1)}" height="14" fill="${COLOURS.overridden}"/>
</svg>`;
}

/** Shown, accepted and overridden per week as three lines. */
function trendChart(report: CardReport): string {
  const width = 720;
  const height = 220;
  const pad = { left: 40, right: 12, top: 12, bottom: 36 };
  const series = (['shown', 'accepted', 'overridden'] as const).map((metric) => ({
    metric,
    values: report.weeks.map((week) => sum(week.rows, (row) => row[metric])),
  }));
  const top = Math.max(1, ...series.flatMap((line) => line.values));
  const step = report.weeks.length > 1 ? (width - pad.left - pad.right) / (report.weeks.length - 1) : 0;
  const x = (index: number): number => pad.left + index * step;
  const y = (value: number): number => height - pad.bottom - (value / top) * (height - pad.top - pad.bottom);
  const lines = series
    .map(
      (line) =>
        `<polyline fill="none" stroke="${COLOURS[line.metric]}" stroke-width="2" points="${line.values.map((value, index) => `${x(index).toFixed(1)},${y(value).toFixed(1)}`).join(' ')}"/>` +
        line.values
          .map(
            (value, index) =>
              `<circle cx="${x(index).toFixed(1)}" cy="${y(value).toFixed(1)}" r="3" fill="${COLOURS[line.metric]}"/>`,
          )
          .join(''),
    )
    .join('\n');
  const labelEvery = Math.max(1, Math.ceil(report.weeks.length / 8));
  const labels = report.weeks
    .map((week, index) =>
      index % labelEvery === 0
        ? `<text x="${x(index).toFixed(1)}" y="${height - pad.bottom + 16}" font-size="11" text-anchor="middle">${day(week.start)}</text>`
        : '',
    )
    .join('');
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Cards shown, accepted and overridden per week">
<line x1="${pad.left}" y1="${y(0)}" x2="${width - pad.right}" y2="${y(0)}" stroke="#d0d7de"/>
<line x1="${pad.left}" y1="${y(top)}" x2="${width - pad.right}" y2="${y(top)}" stroke="#eaeef2"/>
<text x="${pad.left - 6}" y="${y(top) + 4}" font-size="11" text-anchor="end">${top}</text>
<text x="${pad.left - 6}" y="${y(0) + 4}" font-size="11" text-anchor="end">0</text>
${lines}
${labels}
</svg>`;
}

const cell = (value: number, attributes: string): string => `<td class="n" ${attributes}>${value}</td>`;

/**
 * The report as one self-contained HTML file: inline CSS and SVG, no script and nothing from the network.
 * Every number carries data attributes naming what it counts, so tests (and people) can read it back.
 * @param report - what gatherCardReport read
 * @param source - which store it was read from, for the header ("SQLite data/feedback.sqlite")
 */
export function renderCardReport(report: CardReport, source: string, generatedAt = new Date()): string {
  const totals = {
    shown: sum(report.rows, (row) => row.shown),
    accepted: sum(report.rows, (row) => row.accepted),
    overridden: sum(report.rows, (row) => row.overridden),
  };
  const widest = Math.max(0, ...report.rows.map((row) => Math.max(row.shown, row.accepted + row.overridden)));
  const ruleRows = report.rows
    .map((row) => {
      const key = `data-service="${escapeHtml(row.serviceId)}" data-rule="${escapeHtml(row.ruleId)}"`;
      return `<tr><td class="nowrap">${escapeHtml(row.serviceId)}</td><td class="nowrap"><code>${escapeHtml(row.ruleId)}</code></td>
${cell(row.shown, `${key} data-metric="shown"`)}${cell(row.accepted, `${key} data-metric="accepted"`)}${cell(row.overridden, `${key} data-metric="overridden"`)}
<td class="n">${percent(row.accepted, row.shown)}</td><td class="n">${percent(row.overridden, row.shown)}</td><td>${outcomeBar(row, widest)}</td></tr>`;
    })
    .join('\n');
  const reasonRows = report.rows
    .flatMap((row) =>
      Object.entries(row.overrideReasons)
        .sort(([, a], [, b]) => b - a)
        .map(
          ([reason, count]) =>
            `<tr><td>${escapeHtml(row.serviceId)}</td><td><code>${escapeHtml(row.ruleId)}</code></td><td>${escapeHtml(reason)}</td>${cell(count, `data-service="${escapeHtml(row.serviceId)}" data-rule="${escapeHtml(row.ruleId)}" data-reason="${escapeHtml(reason)}"`)}<td><svg width="160" height="12"><rect width="${((count / Math.max(1, row.overridden)) * 160).toFixed(1)}" height="12" fill="${COLOURS.overridden}"/></svg></td></tr>`,
        ),
    )
    .join('\n');
  const weekRows = report.weeks
    .map((week) => {
      const key = `data-week="${day(week.start)}"`;
      return `<tr><td>${day(week.start)}</td>${cell(
        sum(week.rows, (row) => row.shown),
        `${key} data-metric="shown"`,
      )}${cell(
        sum(week.rows, (row) => row.accepted),
        `${key} data-metric="accepted"`,
      )}${cell(
        sum(week.rows, (row) => row.overridden),
        `${key} data-metric="overridden"`,
      )}</tr>`;
    })
    .join('\n');
  const tile = (label: string, value: string, metric: string): string =>
    `<div class="tile"><div class="value" data-total="${metric}">${value}</div><div>${label}</div></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>CDS cards ${day(report.from)} to ${day(report.to)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;color:#1d2430;max-width:1000px;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.meta{color:#57606a}.tiles{display:flex;gap:1rem;margin:1rem 0}.tile{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.value{font-size:1.6rem;font-weight:600}table{border-collapse:collapse;width:100%}th,td{padding:.3rem .5rem;border-bottom:1px solid #eaeef2;text-align:left}
.nowrap{white-space:nowrap}.n{text-align:right;font-variant-numeric:tabular-nums}.key span{display:inline-block;width:10px;height:10px;margin:0 .3rem 0 1rem}
</style></head><body>
<h1>Cards shown, accepted and overridden</h1>
<p class="meta">From <span data-range="from">${day(report.from)}</span> to <span data-range="to">${day(report.to)}</span> (exclusive) · read from ${escapeHtml(source)} · generated ${generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</p>
<div class="tiles">${tile('cards shown', String(totals.shown), 'shown')}${tile('accepted', String(totals.accepted), 'accepted')}${tile('overridden', String(totals.overridden), 'overridden')}${tile('acceptance rate', percent(totals.accepted, totals.shown), 'acceptance')}</div>
<h2>Trend by week</h2>
<p class="key"><span style="background:${COLOURS.shown}"></span>shown<span style="background:${COLOURS.accepted}"></span>accepted<span style="background:${COLOURS.overridden}"></span>overridden</p>
${trendChart(report)}
<h2>Per service and rule</h2>
${
  report.rows.length === 0
    ? '<p>No cards were shown and no feedback was received in this range.</p>'
    : `<table><tr><th>Service</th><th>Rule</th><th class="n">Shown</th><th class="n">Accepted</th><th class="n">Overridden</th><th class="n">Accepted %</th><th class="n">Overridden %</th><th>Outcome</th></tr>
${ruleRows}</table>`
}
<p class="key"><span style="background:${COLOURS.accepted}"></span>accepted<span style="background:${COLOURS.overridden}"></span>overridden<span style="background:${COLOURS.shown};opacity:.35"></span>shown, no feedback</p>
<h2>Override reasons</h2>
${reasonRows ? `<table><tr><th>Service</th><th>Rule</th><th>Reason</th><th class="n">Overrides</th><th></th></tr>\n${reasonRows}</table>` : '<p>No overrides in this range.</p>'}
<h2>By week</h2>
<table><tr><th>Week of (Monday)</th><th class="n">Shown</th><th class="n">Accepted</th><th class="n">Overridden</th></tr>
${weekRows}</table>
</body></html>
`;
}
