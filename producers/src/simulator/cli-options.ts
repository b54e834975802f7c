import { parseArgs } from 'node:util';
import { z } from 'zod';

export const usage = `Usage: npm run simulate -w @searchop/producers -- [options]

World
  --world generated|homedepot   generated (default) or the Home Depot judgments
  --judgments PATH              judgments CSV(.gz) for --world homedepot
                                (default ../shared/data/homedepot/judgments-dev.csv.gz from the repository root)
  --world-seed N                seed of the generated world, prices and query popularity (default 1)
  --products N                  products of a generated world (default 2000)
  --queries N                   queries of a generated world (default 500)
  --out-dir DIR                 write the world (truth.jsonl, queries.jsonl, catalog.jsonl, world.json)

Shoppers
  --seed N                      seed of shopper behaviour and event ids (default: random, printed)
  --shoppers N                  shopper population (default 1000)
  --rate R                      behavioural events per second of event time (default 20)
  --duration SECONDS            stop when event time has advanced this far
  --events N                    stop after N behavioural events (the catalogue is not counted)
  --clock real|simulated        real: paced by the wall clock (default); simulated: as fast as possible
  --start ISO                   simulated clock start (default: so that history ends now, with no event later)
  --page-size N                 results per page (default by device: 24 desktop/tablet, 12 mobile/app)
  --skip-catalog                do not emit the catalogue as product_change upserts first

Ranking
  --ranker random|popularity|text|http   (default text)
  --rank-url URL                POST /rank URL of the ranking service, for --ranker http
  --rank-timeout-ms N           a slower answer falls back to retrieval order (default 1000)
  --concurrency N               sessions computed at once (default 1; 8 with --ranker http)

Output
  --sink kafka|ndjson           Kafka through the storefront SDK (default; KAFKA_*, SCHEMA_REGISTRY_* from the
                                environment) or a file of {"type","event"} lines
  --sink-path PATH              the NDJSON file, for --sink ndjson
  --progress-seconds N          progress line interval on stderr (default 5)
  --help`;

const positiveInt = z.coerce.number().int().positive();
const seed = z.coerce.number().int().min(0).max(0xffffffff);

const schema = z
  .object({
    world: z.enum(['generated', 'homedepot']).default('generated'),
    judgments: z.string().min(1).optional(),
    'world-seed': seed.default(1),
    products: positiveInt.default(2000),
    queries: positiveInt.default(500),
    'out-dir': z.string().min(1).optional(),
    seed: seed.optional(),
    shoppers: positiveInt.default(1000),
    rate: z.coerce.number().positive().default(20),
    duration: z.coerce.number().positive().optional(),
    events: positiveInt.optional(),
    clock: z.enum(['real', 'simulated']).default('real'),
    start: z.iso.datetime({ offset: true }).optional(),
    'page-size': positiveInt.optional(),
    'skip-catalog': z.boolean().default(false),
    ranker: z.enum(['random', 'popularity', 'text', 'http']).default('text'),
    'rank-url': z.url().optional(),
    'rank-timeout-ms': positiveInt.default(1000),
    concurrency: positiveInt.optional(),
    sink: z.enum(['kafka', 'ndjson']).default('kafka'),
    'sink-path': z.string().min(1).optional(),
    'progress-seconds': z.coerce.number().positive().default(5),
  })
  .superRefine((o, ctx) => {
    if (o.ranker === 'http' && o['rank-url'] === undefined)
      ctx.addIssue({ code: 'custom', path: ['rank-url'], message: 'required with --ranker http' });
    if (o.sink === 'ndjson' && o['sink-path'] === undefined)
      ctx.addIssue({ code: 'custom', path: ['sink-path'], message: 'required with --sink ndjson' });
    if (o.clock === 'simulated' && o.duration === undefined && o.events === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['duration'],
        message: '--duration or --events is required with --clock simulated',
      });
    if (o.start !== undefined && o.clock !== 'simulated')
      ctx.addIssue({ code: 'custom', path: ['start'], message: 'only with --clock simulated' });
  });

export type CliOptions = z.infer<typeof schema>;

export type CliParse =
  | { readonly ok: true; readonly options: CliOptions; readonly help: boolean }
  | { readonly ok: false; readonly error: string };

const stringOptions = Object.keys(schema.shape).filter((k) => k !== 'skip-catalog');

/** Parses argv (without node and the script); a bad option is a value naming it, not an exception. */
export function parseCli(argv: readonly string[]): CliParse {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(stringOptions.map((name) => [name, { type: 'string' as const }])),
        'skip-catalog': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const { help, ...rest } = values;
  const parsed = schema.safeParse(rest);
  if (!parsed.success)
    return {
      ok: false,
      error: parsed.error.issues.map((i) => `--${i.path.join('.') || 'options'}: ${i.message}`).join('\n'),
    };
  return { ok: true, options: parsed.data, help: help === true };
}
