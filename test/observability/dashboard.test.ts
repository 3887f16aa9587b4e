import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-app.js';

const DOCKER = fileURLToPath(new URL('../../docker/', import.meta.url));
const dashboard = JSON.parse(readFileSync(`${DOCKER}grafana/cds-dashboard.json`, 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

const PROMQL_WORDS = new Set([
  'sum',
  'rate',
  'increase',
  'histogram_quantile',
  'clamp_min',
  'by',
  'without',
  'avg',
  'max',
  'min',
  'count',
  'irate',
  'delta',
  'topk',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
]);

/** The metric names a PromQL expression reads: what is left once labels, ranges, groupings and functions go. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/(?<![A-Za-z0-9_:])\d+(\.\d+)?(e[-+]?\d+)?/gi, '');
  return [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .map((match) => match[0])
    .filter((word) => !PROMQL_WORDS.has(word));
}

/** Every series name /metrics can give: counters and gauges as named, histograms with their suffixes. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name = '', type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) {
        names.add(`${name}${suffix}`);
      }
    }
    names.add(name);
  }
  return names;
}

describe('the Grafana dashboard', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('the metric parser finds the names and only the names', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, service) (rate(cds_hook_duration_seconds_bucket{status=~"5.."}[5m]))) / clamp_min(sum(increase(cds_cards_shown_total[$__range])), 1e-9)',
      ),
    ).toEqual(['cds_hook_duration_seconds_bucket', 'cds_cards_shown_total']);
  });

  it('queries only metrics the service exports, and covers cards, feedback, latency and errors', async () => {
    const exposition = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const exported = exportedNames(exposition);
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        const names = metricNames(target.expr);
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(exported, `${panel.title}: ${name} is not on /metrics`).toContain(name);
          used.add(name);
        }
      }
    }
    expect([...used]).toEqual(
      expect.arrayContaining([
        'cds_cards_shown_total',
        'cds_card_feedback_total',
        'cds_hook_duration_seconds_bucket',
        'cds_hook_duration_seconds_count',
      ]),
    );
  });

  it('is provisioned in compose with Prometheus scraping the service', () => {
    const compose = parse(readFileSync(`${DOCKER}compose.yaml`, 'utf8')) as {
      services: Record<string, { image?: string; volumes?: string[]; environment?: Record<string, string> }>;
    };
    const prometheus = compose.services['prometheus'];
    const grafana = compose.services['grafana'];
    expect(prometheus?.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(grafana?.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    for (const volume of [...(prometheus?.volumes ?? []), ...(grafana?.volumes ?? [])]) {
      const host = volume.split(':')[0] ?? '';
      expect(existsSync(`${DOCKER}${host.replace(/^\.\//, '')}`), volume).toBe(true);
    }
    expect((grafana?.volumes ?? []).join(' ')).toContain('cds-dashboard.json');
    const scrape = parse(readFileSync(`${DOCKER}prometheus.yml`, 'utf8')) as {
      scrape_configs: { metrics_path: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    // Every replica, on the admin port the compose file gives the service.
    expect(scrape.scrape_configs[0]).toMatchObject({
      metrics_path: '/metrics',
      dns_sd_configs: [
        { names: ['cds'], port: Number(compose.services['cds']?.environment?.['METRICS_PORT']) },
      ],
    });
  });
});
