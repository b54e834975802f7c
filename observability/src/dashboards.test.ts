import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { allPanels, dashboardFiles, dashboardQueries, loadDashboards, loadRules, paths } from './assets.ts';
import { parsePromQL } from './promql.ts';

/** Static checks of the Grafana files; the metric names are checked against live scrapes in metrics.integration.test.ts. */
const datasource = (
  parseYaml(readFileSync(`${paths.datasourcesDir}/prometheus.yml`, 'utf8')) as {
    datasources: { uid: string; type: string; url: string }[];
  }
).datasources[0]!;

describe('Grafana dashboards', () => {
  it('are valid JSON with unique uids and panel ids on a 24-column grid', () => {
    const boards = loadDashboards();
    expect(boards.map((b) => b.dashboard.uid).sort()).toEqual([
      'searchop-pipeline',
      'searchop-ranker',
      'searchop-trainer',
    ]);
    for (const { dashboard } of boards) {
      const panels = allPanels(dashboard);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, dashboard.title).toBe(ids.length);
      for (const p of panels as { gridPos?: { x: number; w: number } }[]) {
        expect(p.gridPos!.x + p.gridPos!.w).toBeLessThanOrEqual(24);
      }
    }
    expect(dashboardFiles()).toHaveLength(3);
  });

  it('query the provisioned Prometheus datasource', () => {
    expect(datasource).toMatchObject({ type: 'prometheus', uid: 'searchop-prometheus' });
    for (const { dashboard } of loadDashboards()) {
      for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
        expect(panel.datasource?.uid, `${dashboard.title} / ${panel.title}`).toBe(datasource.uid);
        for (const t of panel.targets ?? []) expect(t.datasource?.uid).toBe(datasource.uid);
      }
    }
  });

  it('hold PromQL that parses and recording rules that exist', () => {
    const recorded = new Set(loadRules().flatMap((r) => (r.record ? [r.record] : [])));
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(40);
    for (const q of queries) {
      const parsed = parsePromQL(q.expr);
      expect(parsed.errors, `${q.dashboard} / ${q.panel}: ${q.expr}`).toEqual([]);
      expect(parsed.metrics.size, `${q.dashboard} / ${q.panel} selects no metric`).toBeGreaterThan(0);
      for (const name of parsed.metrics) if (name.includes(':')) expect(recorded).toContain(name);
    }
  });

  it('are what the dashboard provider serves', () => {
    const provider = (
      parseYaml(readFileSync(`${paths.dashboardProvidersDir}/searchop.yml`, 'utf8')) as {
        providers: { type: string; options: { path: string } }[];
      }
    ).providers[0]!;
    expect(provider.type).toBe('file');
    expect(provider.options.path).toBe('/var/lib/grafana/dashboards');
  });
});
