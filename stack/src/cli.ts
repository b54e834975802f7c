#!/usr/bin/env node
import { isSearchOpError } from '@searchop/runtime';
import { loadStackSettings } from './settings.ts';
import { PIPELINE_USAGE, pipelineOptions } from './pipeline/options.ts';
import { runPipeline } from './pipeline/run-pipeline.ts';
import { stackDown, stackStatus, stackUp } from './stack.ts';

const usage = `usage: stack <up|down|status|pipeline>
  up      start Kafka, the Schema Registry and Redis on ${'127.0.0.1'} (idempotent) and wait until each answers
  down    stop every service the stack started
  status  show each service's pid, readiness, endpoint and log file (exit 1 if any is not ready)
  pipeline [options]  run the whole closed loop on built-in data (what npm start runs)
${PIPELINE_USAGE}`;

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
      await runPipeline(settings, pipelineOptions(process.argv.slice(3), process.env));
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
