import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { freePort, startPushgateway, type PromProcess } from '@searchop/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from './commands.ts';
import { pushRunMetrics, TRAINER_PUSH_JOB, type CompletedRun } from './run-metrics.ts';

/**
 * The trainer's run metrics through a real Pushgateway (Debian's prometheus-pushgateway): what a
 * completed, a refused and a failed run leave there, and the CLI pushing a failed run by itself.
 */
interface Family {
  readonly name: string;
  readonly metrics: readonly { readonly labels?: Record<string, string>; readonly value?: string }[];
}

let gateway: PromProcess;
beforeAll(async () => {
  gateway = await startPushgateway();
});
afterAll(() => gateway?.stop());

async function pushed(): Promise<Map<string, Family['metrics']>> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const families = parsePrometheusTextFormat(text) as Family[];
  const ours = new Map<string, Family['metrics']>();
  for (const f of families) {
    const series = f.metrics.filter((m) => m.labels?.['job'] === TRAINER_PUSH_JOB);
    if (series.length > 0) ours.set(f.name, series);
  }
  return ours;
}
const value = (families: Map<string, Family['metrics']>, name: string, labels: Record<string, string> = {}) => {
  const series = (families.get(name) ?? []).find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return series === undefined ? undefined : Number(series.value);
};

function completed(version: number, promoted: boolean, ndcg: number): CompletedRun {
  const metrics = (x: number) => ({ ndcgAt10: x, mrr: x - 0.05, ctrAt10: x + 0.1, groupsWithClicks: 40, lists: 90 });
  return {
    version,
    promoted,
    currentBefore: version === 1 ? undefined : version - 1,
    decision: {
      promote: promoted,
      checks: [
        { name: 'ndcg_at_10 >= 0.25', passed: true, detail: '' },
        { name: 'ndcg_at_10 > 5.0% above v1', passed: promoted, detail: '' },
      ],
      reasons: promoted ? [] : ['not better'],
    },
    evaluation: {
      cutoffMs: 0,
      groups: 40,
      rows: 1_000,
      listsWithoutClicks: 50,
      results: [
        { name: 'new', description: 'new', metrics: metrics(ndcg) },
        { name: 'logged', description: 'logged', metrics: { ...metrics(0.3), truthNdcgAt10: 0.5 } },
      ],
    },
    timings: { 'build-data': 3.5, fit: 10 },
  };
}

describe('trainer run metrics', () => {
  it('keep the last success, gate outcome and model metrics when a later run fails', async () => {
    const lines: string[] = [];
    const say = (line: string) => lines.push(line);
    const t0 = Date.UTC(2026, 2, 1, 2, 0, 0);

    await pushRunMetrics(
      gateway.url,
      { startedAtMs: t0, finishedAtMs: t0 + 600_000, outcome: { kind: 'completed', result: completed(1, true, 0.4) } },
      say,
    );
    let m = await pushed();
    expect(value(m, 'searchop_trainer_last_run_success')).toBe(1);
    expect(value(m, 'searchop_trainer_last_run_duration_seconds')).toBe(600);
    expect(value(m, 'searchop_trainer_last_success_timestamp_seconds')).toBe((t0 + 600_000) / 1000);
    expect(value(m, 'searchop_trainer_last_promotion_timestamp_seconds')).toBe((t0 + 600_000) / 1000);
    expect(value(m, 'searchop_trainer_gate_passed')).toBe(1);
    expect(value(m, 'searchop_trainer_gate_checks_failed')).toBe(0);
    expect(value(m, 'searchop_trainer_model_version')).toBe(1);
    expect(value(m, 'searchop_trainer_production_model_version')).toBe(1);
    expect(value(m, 'searchop_trainer_ndcg_at_10', { ranker: 'new' })).toBe(0.4);
    expect(value(m, 'searchop_trainer_mrr', { ranker: 'logged' })).toBeCloseTo(0.25, 12);
    expect(value(m, 'searchop_trainer_ctr_at_10', { ranker: 'new' })).toBeCloseTo(0.5, 12);
    expect(value(m, 'searchop_trainer_truth_ndcg_at_10', { ranker: 'logged' })).toBe(0.5);
    expect(value(m, 'searchop_trainer_truth_ndcg_at_10', { ranker: 'new' })).toBeUndefined();
    expect(value(m, 'searchop_trainer_step_duration_seconds', { step: 'fit' })).toBe(10);

    // A week later: registered, refused by the improvement gate.
    const t1 = t0 + 7 * 86_400_000;
    await pushRunMetrics(
      gateway.url,
      { startedAtMs: t1, finishedAtMs: t1 + 60_000, outcome: { kind: 'completed', result: completed(2, false, 0.41) } },
      say,
    );
    m = await pushed();
    expect(value(m, 'searchop_trainer_gate_passed')).toBe(0);
    expect(value(m, 'searchop_trainer_gate_checks_failed')).toBe(1);
    expect(value(m, 'searchop_trainer_model_version')).toBe(2);
    expect(value(m, 'searchop_trainer_production_model_version')).toBe(1);
    expect(value(m, 'searchop_trainer_last_success_timestamp_seconds')).toBe((t1 + 60_000) / 1000);
    expect(value(m, 'searchop_trainer_last_promotion_timestamp_seconds')).toBe((t0 + 600_000) / 1000);

    // Another week: the run fails. Only the last-run gauges change.
    const t2 = t1 + 7 * 86_400_000;
    await pushRunMetrics(gateway.url, { startedAtMs: t2, finishedAtMs: t2 + 5_000, outcome: { kind: 'failed' } }, say);
    m = await pushed();
    expect(value(m, 'searchop_trainer_last_run_success')).toBe(0);
    expect(value(m, 'searchop_trainer_last_run_timestamp_seconds')).toBe((t2 + 5_000) / 1000);
    expect(value(m, 'searchop_trainer_last_success_timestamp_seconds')).toBe((t1 + 60_000) / 1000);
    expect(value(m, 'searchop_trainer_gate_passed')).toBe(0);
    expect(value(m, 'searchop_trainer_ndcg_at_10', { ranker: 'new' })).toBe(0.41);
    expect(lines.filter((l) => l.startsWith('run metrics pushed'))).toHaveLength(3);
  });

  it('a Pushgateway that does not answer costs a warning, not the run', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const lines: string[] = [];
    await pushRunMetrics(closed, { startedAtMs: 0, finishedAtMs: 1_000, outcome: { kind: 'failed' } }, (line) =>
      lines.push(line),
    );
    expect(lines).toEqual([
      expect.stringMatching(/^warning: could not push run metrics to http:\/\/127\.0\.0\.1:\d+: /),
    ]);
  });

  it('trainer run pushes a failed run when TRAINER_PUSHGATEWAY_URL is set', async () => {
    const repo = fileURLToPath(new URL('../../', import.meta.url));
    const work = await mkdtemp(join(tmpdir(), 'trainer-push-'));
    try {
      // A clean group: only what the CLI pushes is there.
      expect((await fetch(`${gateway.url}/metrics/job/${TRAINER_PUSH_JOB}`, { method: 'DELETE' })).ok).toBe(true);
      const before = Date.now() / 1000;
      // An empty configuration directory fails the run at once (before any Python or DuckDB work).
      const outcome = await promisify(execFile)(
        process.execPath,
        [join(repo, 'trainer/src/cli.ts'), 'run', '--config', work, '--registry', join(work, 'registry')],
        { cwd: repo, env: { ...process.env, TRAINER_PUSHGATEWAY_URL: gateway.url } },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
      );
      expect(outcome.code, outcome.stderr).toBe(EXIT.FAILED);
      expect(outcome.stderr).toContain('TRN_CONFIG_INVALID');
      expect(outcome.stderr).toContain(`run metrics pushed to ${gateway.url}`);
      const m = await pushed();
      expect(value(m, 'searchop_trainer_last_run_success')).toBe(0);
      expect(value(m, 'searchop_trainer_last_run_timestamp_seconds')).toBeGreaterThanOrEqual(Math.floor(before));
      expect(value(m, 'searchop_trainer_last_success_timestamp_seconds')).toBeUndefined();
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
