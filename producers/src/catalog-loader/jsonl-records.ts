/**
 * Turns the physical lines of a JSON Lines file into records. Real exports break the format: the
 * Icecat file has one product whose description holds raw line breaks, so its JSON spans four
 * physical lines and no single line of it parses. A line that does not parse and ends inside an
 * unterminated string or an open object is therefore joined with the lines after it (a break
 * inside a string becomes an escaped "\n", one between tokens stays whitespace) until the record
 * closes. A following line that is a complete object by itself is never swallowed: the fragment
 * before it is reported unreadable and the object is read as usual, so a broken line cannot cost
 * the valid records after it.
 */

export type JsonLine =
  | {
      readonly kind: 'row';
      /** The record's first physical line, 1-based. */
      readonly position: number;
      readonly values: Record<string, unknown>;
    }
  | { readonly kind: 'unreadable'; readonly position: number; readonly reason: string; readonly detail?: string };

/** Bounds on a record spread over several lines, so that a stray quote cannot swallow the file. */
export const MAX_CONTINUATION_LINES = 100;
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

interface ScanState {
  inString: boolean;
  escaped: boolean;
  depth: number;
}

function scan(text: string, state: ScanState): ScanState {
  let { inString, escaped, depth } = state;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { inString, escaped, depth };
}

interface Pending {
  readonly position: number;
  text: string;
  lines: number;
  state: ScanState;
}

type ParseResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string; detail?: string };

function parseObject(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'not valid JSON', detail: (error as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, reason: 'not a JSON object', detail: Array.isArray(value) ? 'an array' : typeof value };
  return { ok: true, value: value as Record<string, unknown> };
}

export class JsonLinesAssembler {
  #pending: Pending | undefined;

  /** Feeds one physical line (without its line break); returns the records it completes. */
  push(line: string, position: number): JsonLine[] {
    const out: JsonLine[] = [];
    const pending = this.#pending;
    if (pending !== undefined) {
      if (line.trimStart().startsWith('{')) {
        const alone = parseObject(line);
        if (alone.ok) {
          out.push(this.#abandon(pending));
          out.push({ kind: 'row', position, values: alone.value });
          return out;
        }
      }
      pending.text += pending.state.inString ? `\\n${line}` : `\n${line}`;
      pending.lines++;
      pending.state = scan(line, pending.state);
      if (!pending.state.inString && pending.state.depth <= 0) {
        this.#pending = undefined;
        const parsed = parseObject(pending.text);
        out.push(
          parsed.ok
            ? { kind: 'row', position: pending.position, values: parsed.value }
            : {
                kind: 'unreadable',
                position: pending.position,
                reason: parsed.reason,
                detail: `lines ${pending.position}–${position}: ${parsed.detail ?? ''}`,
              },
        );
      } else if (pending.lines > MAX_CONTINUATION_LINES || pending.text.length > MAX_RECORD_CHARS) {
        out.push(this.#abandon(pending));
      }
      return out;
    }

    const text = position === 1 ? line.replace(/^\uFEFF/, '') : line;
    if (text.trim() === '') return out;
    const parsed = parseObject(text);
    if (parsed.ok) {
      out.push({ kind: 'row', position, values: parsed.value });
      return out;
    }
    const state = scan(text, { inString: false, escaped: false, depth: 0 });
    if (text.trimStart().startsWith('{') && (state.inString || state.depth > 0)) {
      this.#pending = { position, text, lines: 1, state };
      return out;
    }
    out.push({
      kind: 'unreadable',
      position,
      reason: parsed.reason,
      ...(parsed.detail ? { detail: parsed.detail } : {}),
    });
    return out;
  }

  /** At the end of the input: a record still open is unreadable. */
  end(): JsonLine[] {
    const pending = this.#pending;
    return pending === undefined ? [] : [this.#abandon(pending)];
  }

  #abandon(pending: Pending): JsonLine {
    this.#pending = undefined;
    return {
      kind: 'unreadable',
      position: pending.position,
      reason: 'not valid JSON',
      detail: `unterminated record over ${pending.lines} line(s)`,
    };
  }
}
