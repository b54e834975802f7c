import { describe, expect, it } from 'vitest';
import { loadConfig } from '@searchop/runtime';
import { DEFAULT_SETTINGS, rankerConfigSchema, settingsFrom } from './config.ts';

describe('ranker configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig(rankerConfigSchema, {});
    expect(config.RANKER_PORT).toBe(8080);
    expect(config.RANKER_MAX_CANDIDATES).toBe(1_000);
    expect(config.RANKER_MAX_QUERY_LENGTH).toBe(512);
    expect(config.RANKER_ONNX_INTRA_OP_THREADS).toBe(1);
    expect(config.RANKER_API_KEYS).toEqual([]);
    expect(config.REDIS_KEY_PREFIX).toBe('so:');
    expect(DEFAULT_SETTINGS).toEqual(settingsFrom(config));
  });

  it('reads API keys as a comma-separated list', () => {
    expect(loadConfig(rankerConfigSchema, { RANKER_API_KEYS: ' k1, ,k2 ' }).RANKER_API_KEYS).toEqual(['k1', 'k2']);
  });

  it('refuses invalid values at boot, naming each key', () => {
    expect(() =>
      loadConfig(rankerConfigSchema, {
        RANKER_MAX_CANDIDATES: '0',
        RANKER_FEATURE_TIMEOUT_MS: 'fast',
        RANKER_PORT: '99999',
      }),
    ).toThrow(
      /RANKER_MAX_CANDIDATES[\s\S]*RANKER_FEATURE_TIMEOUT_MS[\s\S]*RANKER_PORT|RANKER_PORT[\s\S]*RANKER_MAX_CANDIDATES/,
    );
  });
});
