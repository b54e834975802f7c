import type { Evaluation } from './evaluate/evaluate.ts';
import type { GateDecision } from './gates.ts';

/** Pure formatting of what a run did, for the terminal. */

const f4 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));

/** A plain-text table: the first row is the header; columns after the first are right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

export function metricsTable(evaluation: Evaluation): string {
  const truth = evaluation.results.some((r) => r.metrics.truthNdcgAt10 !== undefined);
  const header = ['ranking', 'NDCG@10', 'MRR', 'CTR@10', ...(truth ? ['NDCG@10 truth'] : []), 'what'];
  const rows = evaluation.results.map((r) => [
    r.name,
    f4(r.metrics.ndcgAt10),
    f4(r.metrics.mrr),
    f4(r.metrics.ctrAt10),
    ...(truth ? [f4(r.metrics.truthNdcgAt10)] : []),
    r.description,
  ]);
  // The description is text: keep it left-aligned by padding it as the last column.
  const text = table([header.slice(0, -1), ...rows.map((r) => r.slice(0, -1))]).split('\n');
  const what = [header.at(-1)!, '', ...rows.map((r) => r.at(-1)!)];
  return text.map((line, i) => (what[i] === '' ? line : `${line}  ${what[i]}`)).join('\n');
}

export function decisionText(decision: GateDecision): string {
  return decision.checks.map((c) => `  ${c.passed ? 'pass' : 'FAIL'}  ${c.detail}`).join('\n');
}
