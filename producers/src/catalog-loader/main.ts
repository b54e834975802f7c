import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createKafka,
  createLogger,
  createSchemaRegistry,
  defineConfig,
  isSearchOpError,
  kafkaEnv,
  loadConfig,
  logEnv,
  schemaRegistryEnv,
} from '@searchop/runtime';
import { EventCodec, topics, type ProductChange } from '@searchop/schemas';
import { ProducerError, ProducerErrorCode } from '../errors.ts';
import { StorefrontClient, type EmitOutcome } from '../sdk/storefront-client.ts';
import {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_WINDOW,
  loadCatalog,
  PRODUCER_BATCH_SIZE,
  type LoadProgress,
} from './load.ts';
import { isPresetName, parseMapping, presetMapping, presets, type Mapping } from './mapping.ts';
import { openSource, sourceFormats, type SourceFormat } from './readers.ts';
import { formatReport, type LoadReport } from './report.ts';

const USAGE = `Loads a product file into the catalogue topic.

Usage: node producers/src/catalog-loader/main.ts --file PATH [options]

  --file PATH                 CSV (header row), JSON Lines or Parquet; .gz for gzip
  --preset NAME               built-in mapping: ${Object.keys(presets).join(', ')} (default: default)
  --mapping FILE              mapping JSON; with --preset, its top-level keys replace the preset's
  --format csv|jsonl|parquet  instead of guessing from the file name
  --delimiter CHAR            CSV field delimiter (default "," or a tab for .tsv)
  --dry-run                   read, map and report; send nothing (no Kafka needed)
  --max-rejections-shown N    example rows shown per rejection reason (default 5)
  --topic NAME                catalogue topic (default ${topics.catalog.name})
  --limit N                   stop after N rows
  --window N                  changes awaiting Kafka's acknowledgement at most (default ${DEFAULT_WINDOW})
  --max-record-bytes N        reject larger encoded records (default ${DEFAULT_MAX_RECORD_BYTES})
  --report-json FILE          also write the report as JSON

Kafka and the schema registry from KAFKA_BROKERS, SCHEMA_REGISTRY_URL (and the other KAFKA_*,
SCHEMA_REGISTRY_* variables). Exit status: 0 when rows were loaded (some may be rejected: see the
report), 1 when the file cannot be read, no row could be loaded or the load stopped early, 2 for
invalid arguments, mapping or configuration. Re-running a load is harmless: event ids are derived
from the content, and the catalogue topic is compacted by product id.`;

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

class UsageError extends Error {}

interface Args {
  readonly file: string;
  readonly preset: string | undefined;
  readonly mapping: string | undefined;
  readonly format: SourceFormat | undefined;
  readonly delimiter: string | undefined;
  readonly dryRun: boolean;
  readonly maxShown: number;
  readonly topic: string;
  readonly limit: number | undefined;
  readonly window: number;
  readonly maxRecordBytes: number;
  readonly reportJson: string | undefined;
}

/**
 * `npm run catalog:load` runs in producers/; relative paths are meant from where npm was called
 * (INIT_CWD), as when running main.ts with node directly.
 */
function resolvePath(path: string): string {
  const base = process.env['npm_lifecycle_event'] === 'catalog:load' ? process.env['INIT_CWD'] : undefined;
  return resolve(base ?? process.cwd(), path);
}

function parseArguments(argv: string[]): Args | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        file: { type: 'string' },
        preset: { type: 'string' },
        mapping: { type: 'string' },
        format: { type: 'string' },
        delimiter: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'max-rejections-shown': { type: 'string' },
        topic: { type: 'string' },
        limit: { type: 'string' },
        window: { type: 'string' },
        'max-record-bytes': { type: 'string' },
        'report-json': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  if (values.file === undefined) throw new UsageError('--file is required');
  const format = values.format;
  if (format !== undefined && !(sourceFormats as readonly string[]).includes(format))
    throw new UsageError(`--format: expected one of ${sourceFormats.join(', ')}, got "${format}"`);
  if (values.delimiter !== undefined && values.delimiter.length !== 1)
    throw new UsageError('--delimiter: expected one character');
  return {
    file: resolvePath(values.file),
    preset: values.preset,
    mapping: values.mapping === undefined ? undefined : resolvePath(values.mapping),
    format: format as SourceFormat | undefined,
    delimiter: values.delimiter,
    dryRun: values['dry-run'],
    maxShown: positiveInt('--max-rejections-shown', values['max-rejections-shown'], 5, 0),
    topic: values.topic ?? topics.catalog.name,
    limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit, 0, 1),
    window: positiveInt('--window', values.window, DEFAULT_WINDOW, 1),
    maxRecordBytes: positiveInt('--max-record-bytes', values['max-record-bytes'], DEFAULT_MAX_RECORD_BYTES, 1_000),
    reportJson: values['report-json'] === undefined ? undefined : resolvePath(values['report-json']),
  };
}

function positiveInt(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag}: expected an integer ≥ ${min}, got "${text}"`);
  return n;
}

async function resolveMapping(args: Args): Promise<{ mapping: Mapping; label: string }> {
  const preset = args.preset;
  if (preset !== undefined && !isPresetName(preset))
    throw new UsageError(`--preset: unknown preset "${preset}"; known: ${Object.keys(presets).join(', ')}`);
  if (args.mapping === undefined) {
    const name = preset ?? 'default';
    return { mapping: presetMapping(name), label: `preset ${name}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(args.mapping, 'utf8'));
  } catch (cause) {
    throw new ProducerError(
      ProducerErrorCode.INPUT_INVALID,
      `mapping ${args.mapping}: cannot be read as JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  return {
    mapping: parseMapping(json, args.mapping, preset),
    label: preset === undefined ? `mapping ${args.mapping}` : `preset ${preset} with ${args.mapping}`,
  };
}

function progressPrinter(): (p: LoadProgress) => void {
  let lastPrinted = -Infinity;
  return (p) => {
    if (p.elapsedMs - lastPrinted < 1_000) return;
    lastPrinted = p.elapsedMs;
    const rate = Math.round(p.rowsRead / Math.max(p.elapsedMs / 1000, 0.001));
    const n = (x: number) => x.toLocaleString('en-US');
    process.stderr.write(
      `read ${n(p.rowsRead)} · loaded ${n(p.loaded)} · rejected ${n(p.rejected)} · ${n(rate)} rows/s\n`,
    );
  };
}

interface Sink {
  emit(change: ProductChange): Promise<EmitOutcome>;
  close(): Promise<void>;
}

/** The only place that reads the environment and builds clients. */
async function kafkaSink(topic: string): Promise<Sink> {
  const config = loadConfig(defineConfig({ ...kafkaEnv, ...schemaRegistryEnv, ...logEnv }), process.env);
  const logger = createLogger('catalog-loader', config.LOG_LEVEL);
  const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-catalog-loader`);
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = await admin.listTopics();
    if (!existing.includes(topic))
      throw new ProducerError(
        ProducerErrorCode.INPUT_INVALID,
        `topic ${topic} does not exist on ${config.KAFKA_BROKERS.join(',')}; create it first (npm run provision)`,
      );
  } catch (cause) {
    if (isSearchOpError(cause)) throw cause;
    throw new ProducerError(
      ProducerErrorCode.KAFKA_UNAVAILABLE,
      `cannot reach Kafka at ${config.KAFKA_BROKERS.join(',')}: ${(cause as Error).message}`,
      { cause, retriable: true },
    );
  } finally {
    await admin.disconnect();
  }
  const codec = await EventCodec.connect(createSchemaRegistry(config), [topics.catalog]);
  const client = await StorefrontClient.create({
    kafka,
    codec,
    topicNames: { [topics.catalog.id]: topic },
    maxBatchSize: PRODUCER_BATCH_SIZE,
  });
  return { emit: (change) => client.emitProductChange(change), close: () => client.close() };
}

const dryRunSink: Sink = { emit: async () => 'sent', close: async () => {} };

async function main(argv: string[]): Promise<number> {
  let args: Args | 'help';
  let mapping: { mapping: Mapping; label: string };
  try {
    args = parseArguments(argv);
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    }
    mapping = await resolveMapping(args);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    if (error instanceof UsageError) process.stderr.write('Run with --help for the options.\n');
    return EXIT_USAGE;
  }

  let sink: Sink | undefined;
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('stopping: finishing the rows already sent (again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const source = await openSource(args.file, {
      ...(args.format ? { format: args.format } : {}),
      ...(args.delimiter ? { delimiter: args.delimiter } : {}),
    });
    try {
      sink = args.dryRun ? dryRunSink : await kafkaSink(args.topic);
    } catch (error) {
      process.stderr.write(`${describe(error)}\n`);
      return isSearchOpError(error, 'RUN_CONFIG_INVALID') ? EXIT_USAGE : EXIT_FAILED;
    }
    const emitter = sink;
    process.stderr.write(
      `loading ${args.file} (${source.format}${source.gzip ? ', gzip' : ''}) with ${mapping.label} ${
        args.dryRun ? '(dry run)' : `into ${args.topic}`
      }\n`,
    );
    const report = await loadCatalog({
      source,
      mapping: mapping.mapping,
      emit: (change) => emitter.emit(change),
      dryRun: args.dryRun,
      loadedAt: Date.now(),
      maxRecordBytes: args.maxRecordBytes,
      window: args.window,
      ...(args.limit === undefined ? {} : { limit: args.limit }),
      onProgress: progressPrinter(),
      signal: abort.signal,
    });
    process.stdout.write(`${formatReport(report, { maxExamples: args.maxShown })}\n`);
    if (args.reportJson !== undefined) await writeFile(args.reportJson, `${JSON.stringify(report, null, 2)}\n`);
    return exitCodeOf(report);
  } catch (error) {
    process.stderr.write(`${describe(error)}\n`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sink?.close();
  }
}

function exitCodeOf(report: LoadReport): number {
  if (report.stopped !== undefined) return EXIT_FAILED;
  if (report.rowsRead === 0) {
    process.stderr.write('the file has no rows\n');
    return EXIT_FAILED;
  }
  if (report.loaded + report.duplicates === 0) {
    process.stderr.write('every row was rejected: check the mapping against the file\n');
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

function describe(error: unknown): string {
  if (isSearchOpError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

process.exitCode = await main(process.argv.slice(2));
