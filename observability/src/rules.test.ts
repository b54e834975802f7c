import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { PROMTOOL_BIN } from '@searchop/stack/testing';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadRules, paths, ruleFiles, ruleTestFiles } from './assets.ts';
import { parsePromQL } from './promql.ts';

/** The alert and recording rules through Prometheus' own promtool (Debian package `prometheus`). */
const promtool = async (args: readonly string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(PROMTOOL_BIN, args, { cwd: paths.ruleTestsDir });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
};

interface RuleTestFile {
  readonly tests: readonly {
    readonly name?: string;
    readonly alert_rule_test?: readonly { readonly alertname: string; readonly exp_alerts?: readonly unknown[] }[];
  }[];
}

describe('Prometheus rules', () => {
  it('pass promtool check config and check rules', async () => {
    const config = await promtool(['check', 'config', paths.prometheusConfig]);
    expect(config.code, config.output).toBe(0);
    const rules = await promtool(['check', 'rules', ...ruleFiles()]);
    expect(rules.code, rules.output).toBe(0);
    expect(rules.output.match(/SUCCESS/g)).toHaveLength(ruleFiles().length);
  });

  it('pass their promtool unit tests', { timeout: 300_000 }, async () => {
    const result = await promtool(['test', 'rules', ...ruleTestFiles()]);
    expect(result.code, result.output).toBe(0);
    expect(result.output.match(/SUCCESS/g)).toHaveLength(ruleTestFiles().length);
  });

  it('every alert has a unit test where it fires and one where it does not', () => {
    const cases = ruleTestFiles().flatMap((f) =>
      (parseYaml(readFileSync(f, 'utf8')) as RuleTestFile).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    const alerts = loadRules().flatMap((r) => (r.alert ? [r.alert] : []));
    expect(alerts.length).toBeGreaterThan(10);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} has no test where it fires`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} has no test where it stays quiet`,
      ).toBe(true);
    }
  });

  it('use only recording rules that exist', () => {
    const rules = loadRules();
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const rule of rules) {
      const parsed = parsePromQL(rule.expr);
      expect(parsed.errors, `${rule.alert ?? rule.record}`).toEqual([]);
      for (const name of parsed.metrics) {
        if (name.includes(':')) expect(recorded, `${rule.alert ?? rule.record} uses ${name}`).toContain(name);
      }
    }
  });
});
