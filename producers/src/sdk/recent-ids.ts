/**
 * The event ids seen in the last `windowMs`, bounded to `maxSize` ids (oldest evicted first): enough
 * to drop the duplicates that client retries produce, without unbounded memory.
 *
 * Eviction order is kept in a FIFO of its own (two parallel arrays with a moving head) rather than
 * by iterating the Map from its start: deleting from the front of a Map leaves holes that every
 * later iteration walks over until the table is rehashed, so at the size bound — reached within a
 * minute at 20,000 events/s — each call would scan up to a million holes. Here each id is pushed and
 * popped once.
 */
export class RecentIds {
  readonly #seen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxSize: number;
  #ids: string[] = [];
  #times: number[] = [];
  #head = 0;

  constructor(windowMs: number, maxSize: number) {
    this.#windowMs = windowMs;
    this.#maxSize = maxSize;
  }

  /** True if `id` was seen within the window (and records it otherwise). */
  seen(id: string, now: number = Date.now()): boolean {
    this.#evict(now, 0);
    if (this.#seen.has(id)) return true;
    this.#evict(now, 1);
    this.#seen.set(id, now);
    this.#ids.push(id);
    this.#times.push(now);
    return false;
  }

  /** Forgets `id`, so that a send that failed can be retried with the same id. */
  forget(id: string): void {
    this.#seen.delete(id);
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Drops expired ids, and the oldest ones until `room` more fit under the size bound. */
  #evict(now: number, room: number): void {
    while (this.#head < this.#ids.length) {
      const at = this.#times[this.#head]!;
      if (now - at < this.#windowMs && this.#seen.size + room <= this.#maxSize) break;
      const id = this.#ids[this.#head]!;
      // Forgotten (and maybe seen again since): only the entry this FIFO slot recorded is removed.
      if (this.#seen.get(id) === at) this.#seen.delete(id);
      this.#head++;
    }
    // Drop the consumed front now and then, so the arrays stay proportional to what they hold.
    if (this.#head >= 65_536 && this.#head * 2 >= this.#ids.length) {
      this.#ids = this.#ids.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}
