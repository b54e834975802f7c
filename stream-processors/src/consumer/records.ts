import type { TopicId, Topics, TopicSpecBase, ValueOf } from '@searchop/schemas';

/** Where a record sits in Kafka; offsets are numbers (exact below 2^53, i.e. always in practice). */
export interface RecordCoordinates {
  /** The topic's name in this deployment (test topics carry a suffix; `spec.id` is stable). */
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The record's Kafka timestamp (CreateTime, set by the producer), epoch milliseconds. */
  readonly timestamp: number;
}

type EventRecordOf<Id extends TopicId> = RecordCoordinates & {
  /** The topic's key in the registry (`addToCarts`, not the spec's id `add-to-carts`): switch on it to type `value`. */
  readonly topicId: Id;
  readonly spec: TopicSpecBase;
  readonly value: ValueOf<Topics[Id]>;
};

/** A decoded, checked event with its Kafka coordinates: what a handler receives. */
export type ConsumedEvent = { [Id in TopicId]: EventRecordOf<Id> }[TopicId];

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
