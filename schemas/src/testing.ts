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
