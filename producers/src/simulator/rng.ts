import { createHash } from 'node:crypto';
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * The simulator's only source of randomness: xoroshiro128+ (pure-rand) seeded with 128 bits derived
 * from a numeric seed and a stream label. Every independent part of the simulation (each session, the
 * arrivals, the catalogue, each part of world generation) draws from its own labelled stream, so a
 * change in one part (one more query, one more session) does not shift the draws of another, and a
 * run is reproducible from its seeds alone.
 */
export class Rng {
  readonly #gen: RandomGenerator;

  private constructor(gen: RandomGenerator) {
    this.#gen = gen;
  }

  /** The stream `label` of `seed`; sha256 spreads (seed, label) over the 128-bit state. */
  static seeded(seed: number, label: string): Rng {
    const digest = createHash('sha256').update(`${seed}\u0000${label}`).digest();
    const state: number[] = [
      digest.readInt32LE(0),
      digest.readInt32LE(4),
      digest.readInt32LE(8),
      digest.readInt32LE(12),
    ];
    // An all-zero state is xoroshiro's one fixed point.
    if (!state.some((s) => s !== 0)) state[0] = 1;
    return new Rng(xoroshiro128plus.fromState(state));
  }

  /** A child stream, independent of this one's later draws (consumes one draw of this stream). */
  fork(label: string): Rng {
    return Rng.seeded(this.#gen.unsafeNext(), label);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  float(): number {
    const high = this.#gen.unsafeNext() >>> 5;
    const low = this.#gen.unsafeNext() >>> 6;
    return (high * 67_108_864 + low) / 9_007_199_254_740_992;
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return unsafeUniformIntDistribution(min, max, this.#gen);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** Fisher–Yates, in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** `k` distinct items in random order (all of them, shuffled, when k ≥ length). */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = [...items];
    const n = Math.min(k, copy.length);
    for (let i = 0; i < n; i++) {
      const j = this.int(i, copy.length - 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, n);
  }

  /** Standard normal by Box–Muller. */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.float();
    const v = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median; `sigma` is the sd of the underlying normal. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma));
  }

  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** Number of failures before the first success of Bernoulli(p) trials: mean (1 - p) / p. */
  geometric(p: number): number {
    return Math.floor(Math.log(1 - this.float()) / Math.log(1 - p));
  }

  /** A random (version 4 layout) UUID drawn from this stream, so ids are as reproducible as the rest. */
  uuid(): string {
    const words = [this.#gen.unsafeNext(), this.#gen.unsafeNext(), this.#gen.unsafeNext(), this.#gen.unsafeNext()];
    words[1] = (words[1]! & 0xffff0fff) | 0x00004000;
    words[2] = (words[2]! & 0x3fffffff) | 0x80000000;
    let hex = '';
    for (const w of words)
      hex += HEX[(w >>> 24) & 0xff]! + HEX[(w >>> 16) & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[w & 0xff]!;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
