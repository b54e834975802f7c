import type { CounterLocation } from './features/redis-keys.ts';
import type { IoSearchopCatalog } from './generated/events.ts';

/**
 * Test fixtures shared by every workspace's tests (not exported from the package's main entry).
 *
 * A catalogue product: `title`, every other field at the default the catalog schema gives it
 * (what the collector fills in for omitted fields), overridden by `fields`.
 */
export function catalogProduct(
  title: string,
  fields: Partial<IoSearchopCatalog.Product> = {},
): IoSearchopCatalog.Product {
  return {
    title,
    brand: null,
    category_path: [],
    price_minor: null,
    currency: null,
    rating: null,
    review_count: 0,
    available: true,
    released_at: null,
    attributes: {},
    ...fields,
  };
}

/**
 * A counter location as one string (a Map key, readable in a test's diff): the key, or the key, a tab
 * and the hash field. A key never holds a tab (normalised queries have none, test prefixes neither),
 * so the first tab splits it; a field may hold anything.
 */
export function locationName({ key, field }: CounterLocation): string {
  return field === undefined ? key : `${key}\t${field}`;
}

/** The location a locationName names. */
export function locationOf(name: string): CounterLocation {
  const tab = name.indexOf('\t');
  return tab < 0 ? { key: name, field: undefined } : { key: name.slice(0, tab), field: name.slice(tab + 1) };
}
