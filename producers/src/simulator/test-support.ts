import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '@searchop/runtime/testing';
import { eventTypes, type EventCodec, type EventType, type TopicSpecBase } from '@searchop/schemas';
import type { Kafka } from 'kafkajs';
import type { SimEvent } from './sinks/sink.ts';

/* Helpers of the simulator's integration tests (real Kafka, real processes); not used in production code. */

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs the simulator's CLI to completion; never throws for a non-zero exit. */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

/** The CLI's final report: the last line of its stdout. */
export function reportOf(stdout: string): { counts: Record<EventType, number>; [key: string]: unknown } {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { counts: Record<EventType, number> };
}

/** Reads `total` records from the topics of `specs` (from the beginning), decoded, with their keys. */
export async function consumeEvents(
  kafka: Kafka,
  codec: EventCodec,
  specs: readonly TopicSpecBase[],
  total: number,
  groupId: string,
): Promise<{ key: string; event: SimEvent }[]> {
  const typeOfTopic = new Map(
    (Object.keys(eventTypes) as EventType[]).map((type) => [
      specs.find((s) => s.id === eventTypes[type].id)!.name,
      type,
    ]),
  );
  const consumer = kafka.consumer({ groupId });
  const received: { key: string; event: SimEvent }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: specs.map((s) => s.name), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const type = typeOfTopic.get(topic)!;
        const event: unknown = await codec.decode(eventTypes[type] as never, message.value!);
        received.push({ key: message.key!.toString(), event: { type, event } as SimEvent });
      },
    });
    await waitFor(() => received.length >= total, { timeoutMs: 60_000, what: `${total} records back from Kafka` });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** Within a session an event never shares its millisecond with the event it refers to; this orders the rest. */
const typeOrder: Record<EventType, number> = {
  product_change: 0,
  search_impression: 1,
  click: 2,
  add_to_cart: 3,
  purchase: 4,
};

/** Events from several topics back in the order they happened. */
export function inEventTimeOrder(events: readonly SimEvent[]): SimEvent[] {
  return [...events].sort((a, b) => a.event.occurred_at - b.event.occurred_at || typeOrder[a.type] - typeOrder[b.type]);
}

export function countByType(events: readonly SimEvent[]): Record<EventType, number> {
  const counts: Record<EventType, number> = {
    search_impression: 0,
    click: 0,
    add_to_cart: 0,
    purchase: 0,
    product_change: 0,
  };
  for (const e of events) counts[e.type]++;
  return counts;
}

/** What a promise rejected with (undefined if it resolved), for assertions on code and message together. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => error as { code?: string; message?: string },
  );
}
