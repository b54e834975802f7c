import protobuf from 'protobufjs/minimal.js';

/** onnx.proto: ModelProto.metadata_props = 14 (repeated StringStringEntryProto {key = 1; value = 2}). */
const METADATA_PROPS_FIELD = 14;
const KEY_FIELD = 1;
const VALUE_FIELD = 2;
const LENGTH_DELIMITED = 2;

/**
 * The metadata_props of an ONNX model file. onnxruntime-node does not expose a model's custom
 * metadata, so the ranker reads the few bytes it needs from the ModelProto itself, skipping every
 * other field (the graph, however large, is skipped by its length). Throws on a malformed protobuf.
 */
export function readOnnxMetadata(model: Uint8Array): Map<string, string> {
  const reader = protobuf.Reader.create(model);
  const metadata = new Map<string, string>();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field !== METADATA_PROPS_FIELD || wireType !== LENGTH_DELIMITED) {
      reader.skipType(wireType);
      continue;
    }
    const end = reader.uint32() + reader.pos;
    let key = '';
    let value = '';
    while (reader.pos < end) {
      const entryTag = reader.uint32();
      if (entryTag >>> 3 === KEY_FIELD && (entryTag & 7) === LENGTH_DELIMITED) key = reader.string();
      else if (entryTag >>> 3 === VALUE_FIELD && (entryTag & 7) === LENGTH_DELIMITED) value = reader.string();
      else reader.skipType(entryTag & 7);
    }
    metadata.set(key, value);
  }
  return metadata;
}
