import type { StorefrontClient } from '../../sdk/storefront-client.ts';
import type { EventSink, SimEvent, SinkOutcome } from './sink.ts';

/** Into Kafka through the storefront SDK, exactly as a storefront would send them (the caller owns the client). */
export function storefrontSink(client: StorefrontClient): EventSink {
  return {
    emit: (e: SimEvent): Promise<SinkOutcome> => client.emit(e.type, e.event),
    flush: () => client.flush(),
  };
}
