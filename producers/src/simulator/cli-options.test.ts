import { describe, expect, it } from 'vitest';
import { parseCli } from './cli-options.ts';

describe('parseCli', () => {
  it('has defaults for everything but the bounds of a simulated run', () => {
    const parsed = parseCli([]);
    expect(parsed).toMatchObject({
      ok: true,
      help: false,
      options: {
        world: 'generated',
        products: 2000,
        queries: 500,
        ranker: 'text',
        clock: 'real',
        sink: 'kafka',
        rate: 20,
      },
    });
  });

  it('reads every option with its type', () => {
    const parsed = parseCli([
      '--world',
      'homedepot',
      '--judgments',
      'j.csv.gz',
      '--world-seed',
      '3',
      '--seed',
      '9',
      '--rate',
      '2.5',
      '--events',
      '100',
      '--clock',
      'simulated',
      '--start',
      '2025-01-01T00:00:00Z',
      '--ranker',
      'http',
      '--rank-url',
      'http://127.0.0.1:8080/rank',
      '--sink',
      'ndjson',
      '--sink-path',
      'out.ndjson',
      '--skip-catalog',
    ]);
    expect(parsed).toMatchObject({
      ok: true,
      options: {
        world: 'homedepot',
        judgments: 'j.csv.gz',
        'world-seed': 3,
        seed: 9,
        rate: 2.5,
        events: 100,
        clock: 'simulated',
        start: '2025-01-01T00:00:00Z',
        ranker: 'http',
        'rank-url': 'http://127.0.0.1:8080/rank',
        sink: 'ndjson',
        'sink-path': 'out.ndjson',
        'skip-catalog': true,
      },
    });
  });

  it('names the option that is wrong or missing', () => {
    const error = (argv: string[]) => {
      const parsed = parseCli(argv);
      return parsed.ok ? undefined : parsed.error;
    };
    expect(error(['--ranker', 'http'])).toMatch(/--rank-url: required with --ranker http/);
    expect(error(['--sink', 'ndjson'])).toMatch(/--sink-path: required/);
    expect(error(['--clock', 'simulated'])).toMatch(/--duration or --events is required/);
    expect(error(['--rate', '-1'])).toMatch(/--rate/);
    expect(error(['--ranker', 'magic'])).toMatch(/--ranker/);
    expect(error(['--start', '2025-01-01T00:00:00Z'])).toMatch(/--start: only with --clock simulated/);
    expect(error(['--frobnicate'])).toMatch(/frobnicate/);
  });
});
