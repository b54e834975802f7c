/**
 * The event ids seen recently, to drop the duplicates that client retries produce without unbounded
 * memory. An id is remembered for at least `windowMs`, unless `maxSize / 2` newer ids were recorded
 * since; at most twice that; never more than `maxSize` ids are held.
 *
 * Two generations of plain Sets: ids are added to the current one; when it is `windowMs` old or holds
 * `maxSize / 2` ids it becomes the previous one, and the previous one is dropped whole. Nothing is
 * evicted one id at a time: no per-id timestamps, no FIFO, no deletes leaving holes in a large hash
 * table. A lookup is one Set probe per generation, and recording is the same probe (add() and a size
 * check). The previous design (a Map of id → time with a FIFO of its own, exact expiry) cost ~3 µs per
 * event at a million ids plus much of the SDK's garbage collection.
 */
export class RecentIds {
  #current = new Set<string>();
  #previous = new Set<string>();
  /** When the current generation started, or undefined before the first id. */
  #since: number | undefined;
  readonly #windowMs: number;
  readonly #generationSize: number;

  constructor(windowMs: number, maxSize: number) {
    this.#windowMs = windowMs;
    this.#generationSize = Math.max(1, Math.floor(maxSize / 2));
  }

  /** True if `id` was seen recently (see the class); records it otherwise. */
  seen(id: string, now: number = Date.now()): boolean {
    const since = this.#since;
    if (since === undefined || now - since >= this.#windowMs || this.#current.size >= this.#generationSize) {
      this.#rotate(now);
    }
    if (this.#previous.has(id)) return true;
    const current = this.#current;
    const size = current.size;
    current.add(id);
    return current.size === size;
  }

  /** Forgets `id`, so that a send that failed can be retried with the same id. */
  forget(id: string): void {
    this.#current.delete(id);
    this.#previous.delete(id);
  }

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
    this.#previous = stale ? new Set() : this.#current;
    this.#current = new Set();
    this.#since = now;
  }
}
