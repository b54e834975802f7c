import type { IoSearchopCatalog } from '../generated/events.ts';

type Product = IoSearchopCatalog.Product;
import { terms } from './text.ts';

/**
 * What the ranker and the trainer need of a catalogue product, stored as compact JSON in Redis
 * (one string per product, fetched in the same MGET as its counters).
 */
export interface CatalogEntry {
  /** Title terms (normalised), for BM25 and coverage. */
  readonly t: string[];
  /** Price in minor units, or null. */
  readonly p: number | null;
  /** Rating 0–5, or null. */
  readonly r: number | null;
  /** Review count. */
  readonly n: number;
  /** Release time (epoch ms), or null. */
  readonly d: number | null;
  /** Available (1) or not (0). */
  readonly a: 0 | 1;
}

export function catalogEntryOf(product: Product): CatalogEntry {
  return {
    t: terms(product.title),
    p: product.price_minor,
    r: product.rating,
    n: product.review_count,
    d: product.released_at,
    a: product.available ? 1 : 0,
  };
}

export function decodeCatalogEntry(raw: string | Buffer | null | undefined): CatalogEntry | undefined {
  if (raw === null || raw === undefined) return undefined;
  return JSON.parse(raw.toString()) as CatalogEntry;
}
