import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { EventSink, SimEvent, SinkOutcome } from './sink.ts';

/**
 * One JSON object per line, `{"type": "<event type>", "event": {...}}`, in emission order: history for
 * offline use (backfills, training without Kafka). The event is exactly the Avro value, in JSON.
 */
export class NdjsonSink implements EventSink {
  readonly #stream: WriteStream;
  #drained: Promise<void> | undefined;
  #error: Error | undefined;

  private constructor(stream: WriteStream) {
    this.#stream = stream;
    stream.on('error', (error) => (this.#error ??= error));
  }

  /** Creates (or truncates) the file; resolves once it is open. */
  static async open(path: string): Promise<NdjsonSink> {
    const stream = createWriteStream(path, { flags: 'w' });
    await once(stream, 'open');
    return new NdjsonSink(stream);
  }

  async emit(event: SimEvent): Promise<SinkOutcome> {
    if (this.#error) throw this.#error;
    // Resolving only when the stream has room is the back-pressure: the simulator then waits.
    if (!this.#stream.write(`${JSON.stringify({ type: event.type, event: event.event })}\n`)) {
      this.#drained ??= once(this.#stream, 'drain').then(() => {
        this.#drained = undefined;
      });
      await this.#drained;
    }
    return 'sent';
  }

  async flush(): Promise<void> {
    await this.#drained;
    if (this.#error) throw this.#error;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'finish');
    if (this.#error) throw this.#error;
  }
}
