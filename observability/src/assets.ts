import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** Where the Prometheus and Grafana files live (the paths docker-compose.yml and k8s/ mount). */
export const OBSERVABILITY_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const paths = {
  prometheusConfig: join(OBSERVABILITY_ROOT, 'prometheus/prometheus.yml'),
  rulesDir: join(OBSERVABILITY_ROOT, 'prometheus/rules'),
  ruleTestsDir: join(OBSERVABILITY_ROOT, 'prometheus/tests'),
  dashboardsDir: join(OBSERVABILITY_ROOT, 'grafana/dashboards'),
  datasourcesDir: join(OBSERVABILITY_ROOT, 'grafana/provisioning/datasources'),
  dashboardProvidersDir: join(OBSERVABILITY_ROOT, 'grafana/provisioning/dashboards'),
} as const;

const filesIn = (dir: string, ext: RegExp) =>
  readdirSync(dir)
    .filter((f) => ext.test(f))
    .sort()
    .map((f) => join(dir, f));

export const ruleFiles = () => filesIn(paths.rulesDir, /\.ya?ml$/);
export const ruleTestFiles = () => filesIn(paths.ruleTestsDir, /\.ya?ml$/);
export const dashboardFiles = () => filesIn(paths.dashboardsDir, /\.json$/);

export interface Rule {
  readonly file: string;
  readonly group: string;
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
}

interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Omit<Rule, 'file' | 'group'>[] }[];
}

export function loadRules(): Rule[] {
  return ruleFiles().flatMap((file) =>
    (parseYaml(readFileSync(file, 'utf8')) as RuleFile).groups.flatMap((g) =>
      g.rules.map((r) => ({ ...r, file, group: g.name })),
    ),
  );
}

/** A PromQL query of a dashboard: a panel target or a templating variable. */
export interface DashboardQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

export interface GrafanaPanel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly { readonly expr?: string; readonly datasource?: { readonly uid?: string } }[];
  readonly panels?: readonly GrafanaPanel[];
}

export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly GrafanaPanel[];
  readonly templating?: { readonly list?: readonly { readonly name: string; readonly query?: unknown }[] };
}

export function loadDashboards(): { file: string; dashboard: GrafanaDashboard }[] {
  return dashboardFiles().map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(file, 'utf8')) as GrafanaDashboard,
  }));
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  const walk = (panels: readonly GrafanaPanel[]): GrafanaPanel[] => panels.flatMap((p) => [p, ...walk(p.panels ?? [])]);
  return walk(dashboard.panels);
}

export function dashboardQueries(): DashboardQuery[] {
  return loadDashboards().flatMap(({ dashboard }) => [
    ...allPanels(dashboard).flatMap((p) =>
      (p.targets ?? [])
        .filter((t) => typeof t.expr === 'string')
        .map((t) => ({ dashboard: dashboard.title, panel: p.title ?? `#${p.id}`, expr: t.expr! })),
    ),
    // `label_values(metric, label)` and query_result(expr) variables select metrics too.
    ...(dashboard.templating?.list ?? []).flatMap((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
      const inner = query?.match(/^\s*(?:label_values|query_result)\((.*)\)\s*$/s)?.[1];
      const expr = inner?.replace(/,\s*\w+\s*$/, '');
      return expr ? [{ dashboard: dashboard.title, panel: `$${v.name}`, expr }] : [];
    }),
  ]);
}
