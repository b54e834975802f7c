import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueName } from '@searchop/runtime/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadReport } from './report.ts';
import { ownCatalogTopic, recordCount, testServices } from './testing.ts';

/** The CLI as an operator runs it: a child process, its exit status, its output. */

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const { config } = testServices();
const env = {
  PATH: process.env['PATH'],
  KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
  SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL,
  LOG_LEVEL: 'warn',
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('catalog-loader CLI', () => {
  let dir: string;
  const csv = (name: string, lines: string[]) => {
    const file = join(dir, name);
    return writeFile(file, `${lines.join('\n')}\n`).then(() => file);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catalog-loader-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads a file into the topic, prints the report and writes it as JSON', async () => {
    const topic = (await ownCatalogTopic()).spec.name;
    const file = await csv('ok.csv', ['sku,name,price,currency', 'a1,Drill,12.99,EUR', 'a2,,5,EUR', 'a3,Saw,7.50,EUR']);
    const reportFile = join(dir, 'report.json');
    const run = await cli('--file', file, '--topic', topic, '--report-json', reportFile);
    expect(run.stderr).toContain(`into ${topic}`);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/rows read\s+3/);
    expect(run.stdout).toMatch(/loaded\s+2/);
    expect(run.stdout).toContain('title: missing (column title or name) — 1 row: line 3');
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as LoadReport;
    expect(report).toMatchObject({ rowsRead: 3, loaded: 2, rejected: 1, dryRun: false });
    expect(await recordCount(topic)).toBe(2);
  });

  it('fails with status 1 naming the file when it cannot be read', async () => {
    const run = await cli('--file', join(dir, 'absent.jsonl'), '--dry-run');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`PRD_INPUT_INVALID: cannot read ${join(dir, 'absent.jsonl')}: ENOENT`);
  });

  it('fails with status 1 when every row is rejected, still printing why', async () => {
    const file = await csv('bad.csv', ['id,title,price', 'p1,,1', 'p2,T,-1']);
    const run = await cli('--file', file, '--dry-run');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/rejected\s+2/);
    expect(run.stdout).toContain('price_minor: negative — 1 row: line 3 ("-1")');
    expect(run.stderr).toContain('every row was rejected');
  });

  it('fails with status 1 when the file lacks a column the mapping requires', async () => {
    const file = await csv('cols.csv', ['ref,title', 'p1,T']);
    const run = await cli('--file', file, '--dry-run');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no column for the required field product_id');
  });

  it('fails with status 2 on an invalid mapping, naming the key, before reading anything', async () => {
    const mapping = join(dir, 'mapping.json');
    await writeFile(mapping, JSON.stringify({ price_minor: { column: 'price', unit: 'cents' } }));
    const run = await cli('--file', join(dir, 'absent.csv'), '--preset', 'icecat', '--mapping', mapping);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/price_minor\.unit: .*"major"\|"minor"/);
  });

  it('fails with status 2 on unknown options and with status 1 when the topic does not exist', async () => {
    expect((await cli('--file', 'x.csv', '--colour', 'red')).code).toBe(2);
    const file = await csv('one.csv', ['id,title', 'p1,T']);
    const run = await cli('--file', file, '--topic', uniqueName('no-such-topic'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/topic no-such-topic-\S+ does not exist/);
  });
});
