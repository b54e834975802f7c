import { describe, expect, it } from 'vitest';
import { pipelineOptions } from './options.ts';

describe('pipeline options', () => {
  it('takes defaults, then environment variables, then flags', () => {
    const defaults = pipelineOptions([], {});
    expect(defaults).toMatchObject({
      historyEvents: 40_000,
      liveSeconds: 150,
      liveRate: 100,
      world: 'generated',
      seed: 7,
    });
    expect(defaults.cleanup).toBe(false);
    expect(defaults.products).toBeUndefined();

    const fromEnv = pipelineOptions([], {
      PIPELINE_LIVE_SECONDS: '30',
      PIPELINE_PRODUCTS: '400',
      PIPELINE_CLEANUP: '1',
    });
    expect(fromEnv).toMatchObject({ liveSeconds: 30, products: 400, cleanup: true });

    const fromFlags = pipelineOptions(['--live-seconds', '45', '--world', 'homedepot', '--work-dir', '/tmp/x'], {
      PIPELINE_LIVE_SECONDS: '30',
    });
    expect(fromFlags).toMatchObject({ liveSeconds: 45, world: 'homedepot', workDir: '/tmp/x' });
  });

  it('names the flag and its variable when a value is invalid', () => {
    expect(() => pipelineOptions(['--live-rate', 'fast'], {})).toThrow(/--live-rate \(PIPELINE_LIVE_RATE\).*fast/);
    expect(() => pipelineOptions([], { PIPELINE_HISTORY_EVENTS: '-5' })).toThrow(/--history-events/);
    expect(() => pipelineOptions(['--world', 'mars'], {})).toThrow(/--world \(PIPELINE_WORLD\).*mars/);
    expect(() => pipelineOptions(['--no-such-flag'], {})).toThrow(/no-such-flag/);
  });
});
