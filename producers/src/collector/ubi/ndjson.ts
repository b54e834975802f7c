/**
 * Reads the bulk-index NDJSON that UBI tooling writes (OpenSearch `_bulk` shape): optional action
 * lines `{"index": {"_index": "ubi_events", "_id": "..."}}` (or `create`), each followed by its
 * document; bare documents without action lines are read as well. Pure: text in, documents out.
 * Every document line yields one entry, malformed or not, so that each gets a result.
 */
export interface UbiDocument {
  /** 1-based line of the document in the body (of the action line when there is no document). */
  readonly line: number;
  /** `_index` of the action line before the document, if any. */
  readonly index: string | undefined;
  /** `_id` of the action line before the document, if any. */
  readonly id: string | undefined;
  /** The parsed document; undefined when `error` says why there is none. */
  readonly value: unknown;
  readonly error: string | undefined;
}

const ACTIONS_WITH_DOCUMENT = new Set(['index', 'create']);
const UNSUPPORTED_ACTIONS = new Set(['update', 'delete']);

export function parseBulkNdjson(text: string): UbiDocument[] {
  const documents: UbiDocument[] = [];
  let pending: { line: number; index: string | undefined; id: string | undefined } | undefined;
  let skipNext = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const source = lines[i]!.trim();
    if (source === '') continue;
    const line = i + 1;
    if (skipNext) {
      skipNext = false;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      if (pending) documents.push(missingDocument(pending));
      pending = undefined;
      documents.push({ line, index: undefined, id: undefined, value: undefined, error: malformed(error) });
      continue;
    }
    const action = actionOf(value);
    if (action) {
      if (pending) documents.push(missingDocument(pending));
      pending = undefined;
      if (UNSUPPORTED_ACTIONS.has(action.name)) {
        documents.push({
          line,
          index: action.index,
          id: action.id,
          value: undefined,
          error: `bulk action "${action.name}" is not supported; send index or create`,
        });
        skipNext = action.name === 'update'; // its partial document belongs to it
      } else pending = { line, index: action.index, id: action.id };
      continue;
    }
    documents.push({ line, index: pending?.index, id: pending?.id, value, error: undefined });
    pending = undefined;
  }
  if (pending) documents.push(missingDocument(pending));
  return documents;
}

function actionOf(value: unknown): { name: string; index: string | undefined; id: string | undefined } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const name = keys[0]!;
  if (!ACTIONS_WITH_DOCUMENT.has(name) && !UNSUPPORTED_ACTIONS.has(name)) return undefined;
  const meta = (value as Record<string, unknown>)[name];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  const { _index: index, _id: id } = meta as Record<string, unknown>;
  return {
    name,
    index: typeof index === 'string' ? index : undefined,
    id: typeof id === 'string' ? id : typeof id === 'number' ? String(id) : undefined,
  };
}

function missingDocument(action: { line: number; index: string | undefined; id: string | undefined }): UbiDocument {
  return { ...action, value: undefined, error: 'bulk action line without a document after it' };
}

function malformed(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `malformed JSON: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`;
}
