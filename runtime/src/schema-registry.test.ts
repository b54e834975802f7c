import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from './schema-registry.ts';

describe('createSchemaRegistry', () => {
  // A server that takes every connection and never answers: what a stalled registry looks like.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket));
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/apis/ccompat/v7`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('fails a request the registry never answers after SCHEMA_REGISTRY_TIMEOUT_MS, instead of waiting for ever', async () => {
    const registry = createSchemaRegistry({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_TIMEOUT_MS: 300 });
    const started = Date.now();
    const outcome = await registry.getLatestSchemaId('searchop.clicks-value').then(
      () => 'answered',
      (error: unknown) => String(error),
    );
    expect(outcome).toMatch(/timeout/i);
    expect(sockets.length).toBeGreaterThan(0);
    // Well before the test's own timeout; the exact time depends on the client's retries.
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
