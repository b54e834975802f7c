/**
 * The event ids seen in the last `windowMs`, bounded to `maxSize` ids (oldest evicted first): enough
 * to drop the duplicates that client retries produce, without unbounded memory. Map iteration order
 * is insertion order, so the oldest entries are at the front.
 */
export class RecentIds {
  readonly #seen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxSize: number;

  constructor(windowMs: number, maxSize: number) {
    this.#windowMs = windowMs;
    this.#maxSize = maxSize;
  }

  /** True if `id` was seen within the window (and records it otherwise). */
  seen(id: string, now: number = Date.now()): boolean {
    this.#evict(now);
    if (this.#seen.has(id)) return true;
    this.#seen.set(id, now);
    return false;
  }

  /** Forgets `id`, so that a send that failed can be retried with the same id. */
  forget(id: string): void {
    this.#seen.delete(id);
  }

  get size(): number {
    return this.#seen.size;
  }

  #evict(now: number): void {
    for (const [id, at] of this.#seen) {
      if (now - at < this.#windowMs && this.#seen.size < this.#maxSize) break;
      this.#seen.delete(id);
    }
  }
}
