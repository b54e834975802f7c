import { parseArgs } from 'node:util';
import { StackError, StackErrorCode } from '../errors.ts';
import type { PipelineOptions } from './run-pipeline.ts';

/**
 * The pipeline's options: each flag has an environment variable (flags win), so `npm start`, a
 * longer or bigger run and the end-to-end test all take the same code path with different sizes.
 */
const OPTIONS = {
  'history-events': {
    env: 'PIPELINE_HISTORY_EVENTS',
    default: '40000',
    help: 'behavioural events of simulated history before the first model',
  },
  'live-seconds': {
    env: 'PIPELINE_LIVE_SECONDS',
    default: '150',
    help: 'seconds of live closed-loop traffic through POST /rank',
  },
  'live-rate': { env: 'PIPELINE_LIVE_RATE', default: '100', help: 'events per second of live traffic' },
  world: {
    env: 'PIPELINE_WORLD',
    default: 'generated',
    help: 'generated (seeded) or homedepot (real queries and judgments)',
  },
  judgments: {
    env: 'PIPELINE_JUDGMENTS',
    default: undefined,
    help: 'judgments CSV(.gz) for --world homedepot (default ../shared/data/homedepot/judgments-dev.csv.gz)',
  },
  products: {
    env: 'PIPELINE_PRODUCTS',
    default: undefined,
    help: 'products of a generated world (simulator default 2000)',
  },
  queries: {
    env: 'PIPELINE_QUERIES',
    default: undefined,
    help: 'queries of a generated world (simulator default 500)',
  },
  shoppers: { env: 'PIPELINE_SHOPPERS', default: undefined, help: 'shopper population (simulator default 1000)' },
  seed: { env: 'PIPELINE_SEED', default: '7', help: 'seed of shopper behaviour (the live phase uses seed + 1)' },
  'work-dir': {
    env: 'PIPELINE_WORK_DIR',
    default: undefined,
    help: 'logs, offline store, registry and plots (default .stack/pipeline/<time>)',
  },
} as const;

export const PIPELINE_USAGE = [
  ...Object.entries(OPTIONS).map(
    ([flag, o]) =>
      `    --${flag.padEnd(16)} ${o.help}${o.default === undefined ? '' : ` (default ${o.default})`}; env ${o.env}`,
  ),
  '    --keep-running     leave the services running after the summary (Ctrl-C stops them)',
  "    --cleanup          delete the run's topics, consumer groups and Redis keys at the end; env PIPELINE_CLEANUP=1",
  '  Services: KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL when all are set, else ones already answering',
  "  on the stack's ports, else the local stack is started.",
].join('\n');

export function pipelineOptions(args: readonly string[], env: Record<string, string | undefined>): PipelineOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      ...Object.fromEntries(Object.keys(OPTIONS).map((flag) => [flag, { type: 'string' as const }])),
      'keep-running': { type: 'boolean', default: false },
      cleanup: { type: 'boolean', default: false },
    },
  });
  const text = (flag: keyof typeof OPTIONS): string | undefined =>
    ((values as Record<string, unknown>)[flag] as string | undefined) ??
    env[OPTIONS[flag].env] ??
    OPTIONS[flag].default;
  const number = (flag: keyof typeof OPTIONS): number | undefined => {
    const value = text(flag);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new StackError(
        StackErrorCode.CONFIG_INVALID,
        `--${flag} (${OPTIONS[flag].env}): expected a positive number, got ${value}`,
      );
    return n;
  };
  const world = text('world');
  if (world !== 'generated' && world !== 'homedepot') {
    throw new StackError(
      StackErrorCode.CONFIG_INVALID,
      `--world (PIPELINE_WORLD): expected generated or homedepot, got ${world}`,
    );
  }
  const optional = <K extends string>(key: K, value: number | string | undefined) =>
    (value === undefined ? {} : { [key]: value }) as unknown as { [P in K]?: never };
  return {
    historyEvents: number('history-events')!,
    liveSeconds: number('live-seconds')!,
    liveRate: number('live-rate')!,
    world,
    seed: number('seed')!,
    keepRunning: values['keep-running'] === true,
    cleanup: values.cleanup === true || env['PIPELINE_CLEANUP'] === '1',
    ...optional('judgments', text('judgments')),
    ...optional('products', number('products')),
    ...optional('queries', number('queries')),
    ...optional('shoppers', number('shoppers')),
    ...optional('workDir', text('work-dir')),
  };
}
