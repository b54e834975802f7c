#!/usr/bin/env node
import { isSearchOpError } from '@searchop/runtime';
import { StackError, StackErrorCode } from './errors.ts';
import { loadStackSettings } from './settings.ts';
import { parseArgs } from 'node:util';
import { runPipeline } from './pipeline/run-pipeline.ts';
import { stackDown, stackStatus, stackUp } from './stack.ts';

const usage = `usage: stack <up|down|status|pipeline>
  up      start Kafka, the Schema Registry and Redis on ${'127.0.0.1'} (idempotent) and wait until each answers
  down    stop every service the stack started
  status  show each service's pid, readiness, endpoint and log file (exit 1 if any is not ready)
  pipeline [--history-events N] [--live-seconds S] [--live-rate R] [--world generated|homedepot]
           [--judgments PATH] [--seed N] [--keep-running]
          run the whole closed loop on built-in data (what npm start runs)`;

async function main(verb: string | undefined): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(usage);
    return 0;
  }
  const settings = loadStackSettings();
  switch (verb) {
    case 'up': {
      const began = Date.now();
      await stackUp(settings);
      console.log(
        `stack up in ${((Date.now() - began) / 1000).toFixed(1)} s; data and logs under ${settings.STACK_DIR}`,
      );
      printEnv(settings);
      return 0;
    }
    case 'down':
      await stackDown(settings);
      return 0;
    case 'status': {
      const statuses = await stackStatus(settings);
      for (const s of statuses) {
        const state = s.pid === undefined ? 'stopped' : s.ready ? 'ready' : 'not answering';
        console.log(
          `${s.name.padEnd(16)} ${state.padEnd(14)} pid ${String(s.pid ?? '-').padEnd(8)} ${s.endpoint}  log ${s.logFile}`,
        );
      }
      return statuses.every((s) => s.ready) ? 0 : 1;
    }
    case 'pipeline': {
      const { values } = parseArgs({
        args: process.argv.slice(3),
        options: {
          'history-events': { type: 'string', default: '40000' },
          'live-seconds': { type: 'string', default: '150' },
          'live-rate': { type: 'string', default: '100' },
          world: { type: 'string', default: 'generated' },
          judgments: { type: 'string' },
          seed: { type: 'string', default: '7' },
          'keep-running': { type: 'boolean', default: false },
        },
      });
      const number = (name: string, text: string | undefined) => {
        const n = Number(text);
        if (!Number.isFinite(n) || n <= 0)
          throw new StackError(StackErrorCode.CONFIG_INVALID, `--${name}: expected a positive number, got ${text}`);
        return n;
      };
      if (values.world !== 'generated' && values.world !== 'homedepot') {
        throw new StackError(
          StackErrorCode.CONFIG_INVALID,
          `--world: expected generated or homedepot, got ${values.world}`,
        );
      }
      await runPipeline(settings, {
        historyEvents: number('history-events', values['history-events']),
        liveSeconds: number('live-seconds', values['live-seconds']),
        liveRate: number('live-rate', values['live-rate']),
        world: values.world,
        ...(values.judgments ? { judgments: values.judgments } : {}),
        seed: number('seed', values.seed),
        keepRunning: values['keep-running'] ?? false,
      });
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

function printEnv(settings: ReturnType<typeof loadStackSettings>): void {
  console.log(`KAFKA_BROKERS=${settings.kafkaBrokers}`);
  console.log(`SCHEMA_REGISTRY_URL=${settings.schemaRegistryUrl}`);
  console.log(`REDIS_URL=${settings.redisUrl}`);
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (isSearchOpError(error)) console.error(`error ${error.code}: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
