import { randomBytes } from 'node:crypto';
import { RuntimeErrorCode, SearchOpError } from '../errors.ts';

/** A name no other test (or earlier run) uses: each test owns its topics, groups and key prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, or throws once `timeoutMs`
 * has passed (with the last value or error in the message). Tests wait for conditions, never for
 * fixed times.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  {
    timeoutMs = 20_000,
    intervalMs = 50,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new SearchOpError(
        RuntimeErrorCode.DEADLINE_EXCEEDED,
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
export * from './services.ts';
