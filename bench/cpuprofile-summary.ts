#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) by self time: the top functions, and the same time
 * grouped by where the code lives (a package under node_modules, a workspace source directory,
 * native/GC). Used on the ranker's profile from `node bench/ranker.ts --cpu-prof <dir>`.
 *
 *   node bench/cpuprofile-summary.ts <file.cpuprofile> [--top 30] [--from 10]
 *
 * --from skips the profile's first seconds (start-up: module loading, type stripping, schema
 * compilation), so the shares are those of serving.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, from: { type: 'string', default: '0' } },
});
if (positionals.length !== 1) {
  console.error('usage: node bench/cpuprofile-summary.ts <file.cpuprofile> [--top 30] [--from 10]');
  process.exit(2);
}
const profile = JSON.parse(await readFile(positionals[0]!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const fromUs = Number(values.from) * 1e6;
// A gap far longer than the sampling interval (the process descheduled or stopped, the sampler
// starved) is not time the sampled function ran: attribute at most MAX_GAP_FACTOR intervals to it.
const MAX_GAP_FACTOR = 20;
const sortedDeltas = profile.timeDeltas.filter((d) => d > 0).sort((a, b) => a - b);
const maxDeltaUs = MAX_GAP_FACTOR * (sortedDeltas[sortedDeltas.length >> 1] ?? 1000);
let unsampledUs = 0;
let elapsedUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  elapsedUs += profile.timeDeltas[i] ?? 0;
  if (elapsedUs < fromUs) continue;
  const id = profile.samples[i]!;
  // A sample's delta is the time until the next sample: attribute it to this sample's node.
  const delta = Math.max(0, profile.timeDeltas[i + 1] ?? 0);
  unsampledUs += Math.max(0, delta - maxDeltaUs);
  selfUs.set(id, (selfUs.get(id) ?? 0) + Math.min(delta, maxDeltaUs));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idleUs = [...selfUs]
  .filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')
  .reduce((s, [, t]) => s + t, 0);
const busy = total - idleUs;

/** Where a function's code lives: a package, a workspace directory, or the engine. */
function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node: core';
  const ws = /\/(schemas|runtime|ranker|stack|bench)\/src\/(.+?)\/?[^/]*$/.exec(url);
  if (ws) return `${ws[1]}/${ws[2]!.split('/')[0]}`;
  const flat = /\/(schemas|runtime|ranker|bench)\/(src\/)?([^/]+)$/.exec(url);
  if (flat) return `${flat[1]}/${flat[3]}`;
  return url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '');
}

const fn = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  if (functionName === '(idle)') continue;
  const file = url.replace(/^.*\/(node_modules\/|(?=(schemas|runtime|ranker|bench)\/))/, '');
  const key = `${functionName || '(anonymous)'}  ${file}${url ? `:${lineNumber + 1}` : ''}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
}

const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(
  `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (idle ${(idleUs / 1e6).toFixed(1)} s, unsampled gaps ${(unsampledUs / 1e6).toFixed(1)} s); shares of busy time`,
);
console.log('\nby area (self time):');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`${ms(us)} ${pct(us)}  ${a}`);
console.log(`\ntop ${values.top} functions (self time):`);
for (const [k, us] of [...fn].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top)))
  console.log(`${ms(us)} ${pct(us)}  ${k}`);
