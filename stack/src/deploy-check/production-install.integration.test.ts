import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextCopies, targetCommand } from './dockerfile.ts';
import { readRepoFile, repoRoot } from './files.ts';

/**
 * The images cannot be built here (no Docker engine), so this test does what their build does: it
 * copies what the Dockerfile's `deps` and `app` stages copy, runs the same production install
 * (stack/bin/install-production.sh: npm ci --omit=dev from the npm registry, then the patches), and
 * starts each target's command. A service started with an invalid KAFKA_BROKERS gets as far as its
 * config check — which runs after every static import has loaded — and stops with RUN_CONFIG_INVALID;
 * a missing production dependency would stop it earlier with ERR_MODULE_NOT_FOUND.
 */
const dockerfile = readRepoFile(repoRoot, 'Dockerfile');
let dir: string;

function copyFromContext(stage: string): void {
  for (const [source, destination] of contextCopies(dockerfile, stage)) {
    const target = destination.endsWith('/')
      ? join(dir, destination, source.endsWith('/') ? '' : source.split('/').at(-1)!)
      : join(dir, destination);
    cpSync(join(repoRoot, source), target, {
      recursive: true,
      // As .dockerignore: no tests, no node_modules, no local state.
      filter: (path) => !/\.test\.ts$|\/node_modules(\/|$)|\/\.venv(\/|$)|__pycache__/.test(path),
    });
  }
}

function run(command: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000) {
  const [program, ...args] = command;
  const result = spawnSync(program === 'node' ? process.execPath : program!, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production', ...env },
    timeout: timeoutMs,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the production install of the images', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'searchop-image-'));
    copyFromContext('deps');
    const install = run(['sh', 'stack/bin/install-production.sh'], {}, 540_000);
    expect(install.output).not.toMatch(/npm error/);
    expect(install.status, install.output).toBe(0);
    copyFromContext('app');
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has the production packages, patched as in development, and leaves development packages out', () => {
    for (const needed of [
      'fastify',
      'kafkajs',
      'ioredis',
      'onnxruntime-node',
      '@duckdb/node-api',
      '@searchop/runtime',
    ]) {
      const resolved = run(['node', '-e', `import.meta.resolve(${JSON.stringify(needed)})`]);
      expect(resolved.output, needed).toBe('');
      expect(resolved.status, needed).toBe(0);
    }
    // patches/kafkajs+2.2.4.patch, applied by patch-package in development and by the script here.
    const patched = 'node_modules/kafkajs/src/network/requestQueue/index.js';
    expect(readFileSync(join(dir, patched), 'utf8')).toBe(readFileSync(join(repoRoot, patched), 'utf8'));
    for (const devOnly of ['vitest', 'typescript', 'eslint', 'patch-package', 'testcontainers']) {
      expect(run(['node', '-e', `import.meta.resolve(${JSON.stringify(devOnly)})`]).output, devOnly).toMatch(
        /ERR_MODULE_NOT_FOUND|Cannot find/,
      );
    }
  });

  it.each(['collector', 'feature-processor', 'compactor', 'ranker', 'provision'])(
    '%s loads every module it imports and stops at its config check',
    (target) => {
      const command = targetCommand(dockerfile, target);
      expect(command[0]).toBe('node');
      const result = run(command, { KAFKA_BROKERS: 'not-a-host-and-port' });
      expect(result.output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
      expect(result.output).toContain('RUN_CONFIG_INVALID');
      expect(result.output).toContain('KAFKA_BROKERS.0: expected host:port');
      expect(result.status).not.toBe(0);
    },
  );

  it.each(['trainer', 'simulator'])('%s loads every module it imports and prints its usage', (target) => {
    const entry = targetCommand(dockerfile, target).slice(0, 2);
    const result = run([...entry, '--help']);
    expect(result.output).toMatch(/usage/i);
    expect(result.status).toBe(0);
  });
});
