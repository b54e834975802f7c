import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, kafkaEnv, loadConfig, port, redisEnv, schemaRegistryEnv } from './config.ts';
import { RuntimeErrorCode, SearchOpError } from './errors.ts';

const schema = defineConfig({ ...kafkaEnv, ...redisEnv, ...schemaRegistryEnv, PORT: port.default(8080) });

function configError(env: Record<string, string>): SearchOpError {
  try {
    loadConfig(schema, env);
  } catch (error) {
    if (error instanceof SearchOpError) return error as SearchOpError;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('gives the local-stack defaults when nothing is set', () => {
    const config = loadConfig(schema, {});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.SCHEMA_REGISTRY_URL).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.KAFKA_SSL).toBe(false);
    expect(config.PORT).toBe(8080);
  });

  it('parses lists, flags and numbers', () => {
    const config = loadConfig(schema, {
      KAFKA_BROKERS: 'b-1.msk:9094, b-2.msk:9094',
      KAFKA_SSL: 'TRUE',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'secret',
      REDIS_URL: 'rediss://cache.example:6379',
      REDIS_CLUSTER_NODES: 'a:6379,b:6379',
      PORT: '9000',
    });
    expect(config.KAFKA_BROKERS).toEqual(['b-1.msk:9094', 'b-2.msk:9094']);
    expect(config.KAFKA_SSL).toBe(true);
    expect(config.REDIS_CLUSTER_NODES).toEqual(['a:6379', 'b:6379']);
    expect(config.PORT).toBe(9000);
  });

  it('names every invalid key and what was given', () => {
    const error = configError({ KAFKA_BROKERS: 'no-port', PORT: 'eighty', KAFKA_SSL: 'maybe' });
    expect(error.code).toBe(RuntimeErrorCode.CONFIG_INVALID);
    expect(error.message).toContain('KAFKA_BROKERS');
    expect(error.message).toContain('"no-port"');
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('KAFKA_SSL');
  });

  it('requires SASL credentials with a mechanism, naming the missing key', () => {
    const error = configError({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc' });
    expect(error.message).toContain('KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set');
    expect(error.message).not.toContain('KAFKA_SASL_USERNAME:');
  });

  it('never echoes a secret back', () => {
    const withSecret = z.object({ API_PASSWORD: z.string().min(12) });
    expect(() => loadConfig(withSecret, { API_PASSWORD: 'hunter2' })).toThrow(/API_PASSWORD: .*\(got "\*\*\*"\)/);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig(schema, { KAFKA_BROKERS: '' }).KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
  });

  it('refuses a Redis URL of another scheme', () => {
    expect(configError({ REDIS_URL: 'http://127.0.0.1:6379' }).message).toContain(
      'REDIS_URL: expected a redis:// or rediss:// URL',
    );
  });
});
