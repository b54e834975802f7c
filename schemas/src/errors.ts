import { SearchOpError } from '@searchop/runtime';

export const SchemaErrorCode = {
  /** The record does not start with the Confluent wire-format magic byte 0. */
  BAD_MAGIC_BYTE: 'SCH_BAD_MAGIC_BYTE',
  /** The record names a schema id the registry does not know. */
  UNKNOWN_SCHEMA_ID: 'SCH_UNKNOWN_SCHEMA_ID',
  /** The record names a schema that is not a version of the topic's subject. */
  WRONG_SUBJECT: 'SCH_WRONG_SUBJECT',
  /** The Avro payload cannot be decoded with the writer schema. */
  CORRUPT_PAYLOAD: 'SCH_CORRUPT_PAYLOAD',
  /** A value does not conform to the topic's schema; the message names the field paths. */
  INVALID_VALUE: 'SCH_INVALID_VALUE',
  /** A topic's subject has no registered schema: run the provisioning command. */
  NOT_PROVISIONED: 'SCH_NOT_PROVISIONED',
  /** The registry refused a schema (incompatible change) or failed. */
  REGISTRY_REFUSED: 'SCH_REGISTRY_REFUSED',
  /** Topics were created but their partitions got no leader in time. */
  TOPICS_NOT_READY: 'SCH_TOPICS_NOT_READY',
  /** The registry could not be reached. */
  REGISTRY_UNAVAILABLE: 'SCH_REGISTRY_UNAVAILABLE',
} as const;
export type SchemaErrorCode = (typeof SchemaErrorCode)[keyof typeof SchemaErrorCode];

export class SchemaError extends SearchOpError<SchemaErrorCode> {}
