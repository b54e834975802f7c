import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TrainerErrorCode } from './errors.ts';
import { PYTHON_ERROR_CODES, failureOf } from './python.ts';

const failed = (stderr: string, code: number | null = 2) => ({ code, signal: null, stderr, timedOut: false });

describe('failureOf', () => {
  it('raises the code a Python CLI printed as its last stderr line', () => {
    const error = failureOf(
      'searchop_trainer.fit',
      failed('warning: something\n{"error": {"code": "TRN_SPLIT_EMPTY", "message": "no validation groups"}}\n'),
    );

    expect(error.code).toBe(TrainerErrorCode.SPLIT_EMPTY);
    expect(error.message).toBe('no validation groups');
  });

  it('does not trust a code outside the shared list, nor a JSON line on another exit status', () => {
    const foreign = failureOf('m', failed('{"error": {"code": "TRN_REGISTRY_INVALID", "message": "x"}}'));
    const crashed = failureOf('m', failed('{"error": {"code": "TRN_DATA_INVALID", "message": "x"}}', 1));

    expect(foreign.code).toBe(TrainerErrorCode.PYTHON_FAILED);
    expect(crashed.code).toBe(TrainerErrorCode.PYTHON_FAILED);
  });

  it('keeps the end of a traceback for an untyped failure', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `frame ${i}`).join('\n');
    const error = failureOf('searchop_trainer.export_onnx', failed(`${lines}\nZeroDivisionError: boom`, 1));

    expect(error.code).toBe(TrainerErrorCode.PYTHON_FAILED);
    expect(error.message).toContain('exited with 1');
    expect(error.message).toContain('ZeroDivisionError: boom');
    expect(error.message).not.toContain('frame 5\n');
  });

  it('marks a timeout retriable', () => {
    const error = failureOf('m', { code: null, signal: 'SIGTERM', stderr: '', timedOut: true }, 1000);

    expect(error.code).toBe(TrainerErrorCode.PYTHON_FAILED);
    expect(error.retriable).toBe(true);
  });
});

describe('the codes shared with Python', () => {
  it('are exactly the ones searchop_trainer/errors.py declares, and all are TrainerErrorCodes', () => {
    const source = readFileSync(new URL('../python/searchop_trainer/errors.py', import.meta.url), 'utf8');
    const declared = new Set([...source.matchAll(/^\s+[A-Z_]+ = "(TRN_[A-Z_]+)"$/gm)].map((m) => m[1]));
    const known: ReadonlySet<string> = new Set(Object.values(TrainerErrorCode));

    expect(declared.size).toBeGreaterThan(0);
    expect([...declared].sort()).toEqual([...PYTHON_ERROR_CODES].sort());
    expect([...declared].filter((code) => code !== undefined && !known.has(code))).toEqual([]);
  });
});
