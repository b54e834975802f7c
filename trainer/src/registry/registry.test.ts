import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSearchOpError } from '@searchop/runtime';
import { MODEL_METADATA, parseModelVersion } from '@searchop/schemas';
import { afterEach, describe, expect, it } from 'vitest';
import { TrainerErrorCode } from '../errors.ts';
import { metadataEntryBytes } from './onnx-stamp.ts';
import { ModelRegistry } from './registry.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function freshRegistry(): Promise<ModelRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-'));
  dirs.push(dir);
  return new ModelRegistry(dir, () => new Date('2026-01-05T10:00:00Z'));
}
const model = Uint8Array.from([0x08, 0x0a, 0x3a, 0x00]); // ir_version = 10, empty graph

describe('model registry', () => {
  it('numbers versions 1, 2, 3 and writes model and metrics for each', async () => {
    const registry = await freshRegistry();
    expect(await registry.current()).toBeUndefined();
    for (const expected of [1, 2, 3]) {
      const version = await registry.register(model, (v) => ({ version: v, note: `run ${v}` }));
      expect(version).toBe(expected);
      expect(await registry.metrics(version)).toEqual({ version, note: `run ${version}` });
    }
    expect(await registry.versions()).toEqual([1, 2, 3]);
    expect(await registry.current()).toBeUndefined();
    // No temporary file is left behind.
    expect((await readdir(registry.paths.modelsDir)).sort()).toEqual([
      'model_v1.onnx',
      'model_v2.onnx',
      'model_v3.onnx',
    ]);
  });

  it('gives concurrent registrations distinct versions', async () => {
    const registry = await freshRegistry();
    const versions = await Promise.all(Array.from({ length: 6 }, () => registry.register(model, (v) => ({ v }))));
    expect([...versions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const v of versions) expect(await registry.metrics(v)).toEqual({ v });
  });

  it('continues after the highest version even when an older model file was removed', async () => {
    const registry = await freshRegistry();
    await registry.register(model, () => ({}));
    await registry.register(model, () => ({}));
    await rm(registry.paths.model(2));
    expect(await registry.register(model, () => ({}))).toBe(3);
  });

  it('stamps the version into the model metadata', async () => {
    const registry = await freshRegistry();
    const version = await registry.register(model, () => ({}));
    const stored = await readFile(registry.paths.model(version));
    const entry = metadataEntryBytes(MODEL_METADATA.modelVersion, '1');
    expect([...stored]).toEqual([...model, ...entry]);
    // Field 14, length-delimited; entry {1: key, 2: value}.
    expect(entry[0]).toBe((14 << 3) | 2);
    expect(Buffer.from(entry).toString('latin1')).toContain('searchop.model_version');
  });

  it('moves the pointer atomically: concurrent readers only ever see a whole version', async () => {
    const registry = await freshRegistry();
    for (let i = 0; i < 3; i++) await registry.register(model, () => ({}));
    await registry.setCurrent(1, 'promote');
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) seen.add(await readFile(registry.paths.pointer, 'utf8'));
    })();
    for (let i = 0; i < 60; i++) await registry.setCurrent((i % 3) + 1, 'flip');
    stop = true;
    await reader;
    for (const text of seen) expect(parseModelVersion(text)).toBeGreaterThanOrEqual(1);
    expect(seen.size).toBeGreaterThan(0);
  });

  it('rolls back to a named version, records it, and refuses an unknown one leaving the pointer as it was', async () => {
    const registry = await freshRegistry();
    await registry.register(model, () => ({}));
    await registry.register(model, () => ({}));
    await registry.setCurrent(2, 'promoted by run');
    expect(await registry.setCurrent(1, 'rollback')).toEqual({ previous: 2 });
    expect(await registry.current()).toBe(1);
    const failure = await registry.setCurrent(7, 'rollback').catch((e: unknown) => e);
    expect(isSearchOpError(failure, TrainerErrorCode.VERSION_NOT_FOUND)).toBe(true);
    expect(await registry.current()).toBe(1);
    const history = (await readFile(join(registry.paths.artifactsDir, 'pointer_history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(history).toEqual([
      { at: '2026-01-05T10:00:00.000Z', from: null, to: 2, reason: 'promoted by run' },
      { at: '2026-01-05T10:00:00.000Z', from: 2, to: 1, reason: 'rollback' },
    ]);
  });

  it('reports a malformed pointer as a registry error', async () => {
    const registry = await freshRegistry();
    await registry.register(model, () => ({}));
    await writeFile(registry.paths.pointer, 'latest\n');
    const failure = await registry.current().catch((e: unknown) => e);
    expect(isSearchOpError(failure, TrainerErrorCode.REGISTRY_INVALID)).toBe(true);
  });
});
