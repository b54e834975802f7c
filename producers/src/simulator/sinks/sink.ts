import type { EventOf, EventType } from '@searchop/schemas';

/** One simulated event, typed by the schema of its event type. */
export type SimEvent = { [T in EventType]: { readonly type: T; readonly event: EventOf<T> } }[EventType];

/** 'duplicate' when the sink dropped the event as a repeat of a recent event id. */
export type SinkOutcome = 'sent' | 'duplicate';

/**
 * Where simulated events go. emit() resolves once the event is durable in the sink (Kafka acked it,
 * the file took it) and rejects when it cannot be; callers may have many emits outstanding, and a sink
 * applies back-pressure by resolving later.
 */
export interface EventSink {
  emit(event: SimEvent): Promise<SinkOutcome>;
  /** Resolves when every event emitted before the call is durable. */
  flush(): Promise<void>;
}

/** Keeps events in memory, in emission order: tests, and callers that post-process a run. */
export class MemorySink implements EventSink {
  readonly events: SimEvent[] = [];

  async emit(event: SimEvent): Promise<SinkOutcome> {
    this.events.push(event);
    return 'sent';
  }

  async flush(): Promise<void> {}

  ofType<T extends EventType>(type: T): EventOf<T>[] {
    return this.events.filter((e) => e.type === type).map((e) => e.event as EventOf<T>);
  }
}
