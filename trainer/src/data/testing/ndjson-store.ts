import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ReplayEvent } from '../backfill.ts';
import { OfflineStoreWriter, type StoreWriterOptions } from './write-store.ts';

/**
 * Test and benchmark support: the simulator's NDJSON output ({"type", "event"} per line, in emission
 * order) written into an offline store in the compactor's layout and encoding, one segment per
 * `segmentEvents` events (as a compactor flushing every so many records would).
 */
export async function ndjsonToOfflineStore(
  ndjsonPath: string,
  storeRoot: string,
  options: StoreWriterOptions & { readonly segmentEvents?: number } = {},
): Promise<number> {
  const writer = new OfflineStoreWriter(storeRoot, options);
  const segment = options.segmentEvents ?? 500_000;
  let pending = 0;
  const lines = createInterface({ input: createReadStream(ndjsonPath), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    const { type, event } = JSON.parse(line) as { type: ReplayEvent['type']; event: ReplayEvent['value'] };
    writer.add({ type, value: event } as ReplayEvent);
    if (++pending >= segment) {
      await writer.flush();
      pending = 0;
    }
  }
  await writer.flush();
  return writer.written;
}
