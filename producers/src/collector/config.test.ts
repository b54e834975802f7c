import { loadConfig } from '@searchop/runtime';
import { describe, expect, it } from 'vitest';
import { collectorConfigSchema, settingsFrom } from './config.ts';

describe('collector configuration', () => {
  it('has the documented defaults: 127.0.0.1:8090, 500 events / 1 MiB, no auth', () => {
    const config = loadConfig(collectorConfigSchema, {});
    expect(config).toMatchObject({
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_PORT: 8090,
      COLLECTOR_MAX_EVENTS: 500,
      COLLECTOR_MAX_BODY_BYTES: 1_048_576,
      COLLECTOR_API_KEYS: [],
      COLLECTOR_UBI_ORDINAL_BASE: 0,
      TOPIC_NAME_SUFFIX: '',
    });
    expect(settingsFrom(config)).toMatchObject({ maxEventAgeMs: 30 * 86_400_000, maxClockSkewMs: 300_000 });
  });

  it('reads a comma-separated key list, trimming blanks', () => {
    const config = loadConfig(collectorConfigSchema, { COLLECTOR_API_KEYS: ' key-one , ,key-two' });
    expect(config.COLLECTOR_API_KEYS).toEqual(['key-one', 'key-two']);
    expect(loadConfig(collectorConfigSchema, { COLLECTOR_UBI_ORDINAL_BASE: '1' }).COLLECTOR_UBI_ORDINAL_BASE).toBe(1);
  });

  it('fails at boot naming every invalid key', () => {
    expect(() =>
      loadConfig(collectorConfigSchema, {
        COLLECTOR_PORT: 'http',
        COLLECTOR_MAX_EVENTS: '0',
        COLLECTOR_UBI_ORDINAL_BASE: '2',
      }),
    ).toThrow(/COLLECTOR_PORT[\s\S]*COLLECTOR_MAX_EVENTS[\s\S]*COLLECTOR_UBI_ORDINAL_BASE/);
  });
});
