/**
 * The event ids seen recently, to drop the duplicates that client retries produce without unbounded
 * memory. An id is remembered for at least `windowMs`, unless `maxSize / 2` newer ids were recorded
 * since; at most twice that; never more than `maxSize` ids are held.
 *
 * Two generations: ids are added to the current one; when it is `windowMs` old or holds `maxSize / 2`
 * ids it becomes the previous one, and the previous one is emptied and reused as the next current
 * one. Nothing is evicted one id at a time.
 *
 * Each generation is an IdTable: the ids' characters copied into one typed array and an open-addressing
 * hash table of typed arrays over them, so that remembering a million ids costs no JavaScript objects.
 * A Set (or Map) of the id strings kept every id alive as a heap object for minutes: they were promoted
 * to the old generation, copied by every scavenge on the way and marked by every full collection, and
 * their scattered hash entries missed the CPU caches on every probe — ~2–3 µs per event in the SDK
 * under load, more than a third of what raw kafkajs spends per event. Lookups stay exact: a
 * matching hash is confirmed by comparing the characters, so a hash collision never drops an event.
 */
export class RecentIds {
  #current: IdTable;
  #previous: IdTable;
  /** When the current generation started, or undefined before the first id. */
  #since: number | undefined;
  readonly #windowMs: number;
  readonly #generationSize: number;

  constructor(windowMs: number, maxSize: number) {
    this.#windowMs = windowMs;
    this.#generationSize = Math.max(1, Math.floor(maxSize / 2));
    this.#current = new IdTable();
    this.#previous = new IdTable();
  }

  /** True if `id` was seen recently (see the class); records it otherwise. */
  seen(id: string, now: number = Date.now()): boolean {
    const since = this.#since;
    if (since === undefined || now - since >= this.#windowMs || this.#current.size >= this.#generationSize) {
      this.#rotate(now);
    }
    const hash = hashOf(id);
    if (this.#previous.size > 0 && this.#previous.has(id, hash)) return true;
    return !this.#current.add(id, hash);
  }

  /** Forgets `id`, so that a send that failed can be retried with the same id. */
  forget(id: string): void {
    const hash = hashOf(id);
    this.#current.delete(id, hash);
    this.#previous.delete(id, hash);
  }

  /** Ids held (forgotten ones included until their generation is dropped). */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /**
   * Starts a new current generation. The current one becomes the previous one, unless it is itself
   * out of the window: its last id was recorded before `since + windowMs` (else it would have rotated
   * then), so at `since + 2 × windowMs` every id of it is a window old.
   */
  #rotate(now: number): void {
    const since = this.#since;
    const stale = since === undefined || now - since >= 2 * this.#windowMs;
    const dropped = this.#previous;
    if (stale) {
      this.#current.clear();
    } else {
      this.#previous = this.#current;
      this.#current = dropped;
    }
    dropped.clear();
    this.#since = now;
  }
}

/** FNV-1a over the UTF-16 code units of `id`, 32 bits. */
export function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** A slot whose id was forgotten: lookups probe past it, it is not reused until the table is cleared. */
const FORGOTTEN = -1;

/**
 * A set of strings held outside the JavaScript heap's objects: each id's length and UTF-16 code units
 * appended to `#chars`, and a linear-probing hash table (`#slots`: pairs of the id's hash and 1 + its
 * offset in `#chars`, 0 for an empty slot) at most half full. No deletion but `clear()` (and
 * `delete()` leaving a FORGOTTEN slot), which is all the generations above need. The table starts
 * small and doubles when half full, so memory follows the ids held; clear() keeps what it grew to.
 */
class IdTable {
  #slots = new Int32Array(2 * 1024);
  #mask = 1024 - 1;
  #chars = new Uint16Array(16 * 1024);
  #used = 0;
  /** Slots taken (forgotten ones included). */
  size = 0;

  has(id: string, hash: number): boolean {
    return this.#find(id, hash) >= 0;
  }

  /** Adds `id`; false if it was already there. */
  add(id: string, hash: number): boolean {
    if (2 * (this.size + 1) > this.#mask + 1) this.#grow();
    const slots = this.#slots;
    let i = hash & this.#mask;
    for (;;) {
      const at = slots[2 * i + 1]!;
      if (at === 0) break;
      if (at !== FORGOTTEN && slots[2 * i] === hash && this.#equals(at - 1, id)) return false;
      i = (i + 1) & this.#mask;
    }
    const offset = this.#append(id);
    slots[2 * i] = hash;
    slots[2 * i + 1] = offset + 1;
    this.size++;
    return true;
  }

  delete(id: string, hash: number): void {
    const i = this.#find(id, hash);
    if (i >= 0) this.#slots[2 * i + 1] = FORGOTTEN;
  }

  /** Doubles the table (it starts small and grows with what it holds); forgotten slots are dropped. */
  #grow(): void {
    const old = this.#slots;
    const slots = new Int32Array(2 * old.length);
    const mask = old.length - 1; // twice the old slot count, minus one
    let size = 0;
    for (let k = 0; k < old.length; k += 2) {
      const at = old[k + 1]!;
      if (at === 0 || at === FORGOTTEN) continue;
      let i = old[k]! & mask;
      while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
      slots[2 * i] = old[k]!;
      slots[2 * i + 1] = at;
      size++;
    }
    this.#slots = slots;
    this.#mask = mask;
    this.size = size;
  }

  clear(): void {
    if (this.size === 0) return;
    this.#slots.fill(0);
    this.#used = 0;
    this.size = 0;
  }

  /** The slot holding `id`, or -1. */
  #find(id: string, hash: number): number {
    const slots = this.#slots;
    let i = hash & this.#mask;
    for (;;) {
      const at = slots[2 * i + 1]!;
      if (at === 0) return -1;
      if (at !== FORGOTTEN && slots[2 * i] === hash && this.#equals(at - 1, id)) return i;
      i = (i + 1) & this.#mask;
    }
  }

  #equals(offset: number, id: string): boolean {
    const chars = this.#chars;
    const n = id.length;
    if (chars[offset] !== (n & 0xffff) || chars[offset + 1] !== n >>> 16) return false;
    const start = offset + 2;
    for (let j = 0; j < n; j++) if (chars[start + j] !== id.charCodeAt(j)) return false;
    return true;
  }

  /** Copies `id` (its length in two code units, then its code units) to the end of `#chars`; its offset. */
  #append(id: string): number {
    const n = id.length;
    const offset = this.#used;
    let chars = this.#chars;
    if (offset + n + 2 > chars.length) {
      const grown = new Uint16Array(Math.max(2 * chars.length, offset + n + 2));
      grown.set(chars.subarray(0, offset));
      chars = this.#chars = grown;
    }
    chars[offset] = n & 0xffff;
    chars[offset + 1] = n >>> 16;
    for (let j = 0; j < n; j++) chars[offset + 2 + j] = id.charCodeAt(j);
    this.#used = offset + n + 2;
    return offset;
  }
}
