import { loadConfig } from '@searchop/runtime';
import { topics } from '@searchop/schemas';
import { describe, expect, it } from 'vitest';
import { compactedTopics, compactorConfigSchema } from './config.ts';

describe('compactor configuration', () => {
  it('compacts every topic of the registry into ./offline-store by default', () => {
    const config = loadConfig(compactorConfigSchema, {});
    expect(config.OFFLINE_STORE_ROOT).toBe('./offline-store');
    expect(config.METRICS_PORT).toBe(9464);
    expect(compactedTopics(config)).toEqual(Object.values(topics));
  });

  it('names topics and their DLQs with the deployment suffix', () => {
    const config = loadConfig(compactorConfigSchema, {
      COMPACTOR_TOPICS: 'clicks, catalog',
      TOPIC_NAME_SUFFIX: '.run-7',
    });
    expect(compactedTopics(config).map((s) => [s.id, s.name, s.dlq])).toEqual([
      ['clicks', 'searchop.clicks.v1.run-7', 'searchop.clicks.v1.run-7.dlq'],
      ['catalog', 'searchop.catalog.v1.run-7', 'searchop.catalog.v1.run-7.dlq'],
    ]);
  });

  it('refuses an unknown topic id and a flush threshold that is not a positive integer, naming the keys', () => {
    const refused = () =>
      loadConfig(compactorConfigSchema, { COMPACTOR_TOPICS: 'clicks,views', COMPACTOR_FLUSH_MAX_RECORDS: '0' });
    expect(refused).toThrow(/COMPACTOR_TOPICS\.1: Invalid option.*\(got "clicks,views"\)/);
    expect(refused).toThrow(/COMPACTOR_FLUSH_MAX_RECORDS: /);
  });
});
