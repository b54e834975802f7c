import { normalizeQuery } from '@searchop/schemas';
import { Rng } from '../rng.ts';
import { zipfWeights } from '../sampling.ts';
import { makeWorld, type Grade, type Product, type Query, type World } from './types.ts';
import { departments, leaves, seriesNames, type LeafSpec } from './vocabulary.ts';

export interface GenerateOptions {
  readonly seed: number;
  readonly products: number;
  readonly queries: number;
  /** Upper bound of a query's candidate set (what first-stage retrieval returns). */
  readonly maxCandidates?: number;
  /** Exponent of the Zipf law of query popularity. */
  readonly zipfExponent?: number;
  readonly currency?: string;
}

/**
 * How the true relevance is made. A product's utility for a query is its match with the query's
 * intent (the product type it asks for, and any brand or attribute it names) plus the product's
 * hidden quality plus noise; the grade is the rounded utility. So:
 *  - text similarity is informative but imperfect: accessories and sibling types share the query's
 *    words but are grade 0–1; synonyms and typos miss relevant titles; attributes are in only some
 *    titles; and text cannot see quality, which splits exact matches into grades 2 and 3;
 *  - quality leaks only noisily into the catalogue (rating, review count) and clearly into behaviour
 *    (shoppers click and buy by grade), so a ranker that learns from clicks can beat text and
 *    popularity baselines, and popularity alone cannot tell a popular product from a relevant one.
 */
export const relevanceModel = {
  /** Match of a product of the asked-for type, before constraint penalties. */
  exactType: 2.7,
  /** Penalty per named brand or attribute the product does not have. */
  constraintMiss: 1.1,
  /** A complement of the asked-for type (drill bits for "drill"). */
  relatedType: 1.2,
  /** Another type of the same category (an impact driver for "drill"). */
  siblingType: 1.0,
  sameDepartment: 0.3,
  /** Category queries ("power tools") and brand queries ("voltara"). */
  inCategory: 2.7,
  categoryDepartment: 0.6,
  brandMatch: 2.6,
  /** Utility added by quality q ∈ (0,1) as weight·(q − 0.5), for products that match at all (match ≥ 1). */
  qualityWeight: 3,
  /** Standard deviation of the per-(query, product) noise. */
  noiseSd: 0.3,
} as const;

type Intent =
  | { kind: 'leaf'; leaf: number; brand: string | null; attributes: readonly (readonly [string, string])[] }
  | { kind: 'category'; department: string; category: string }
  | { kind: 'brand'; brand: string };

interface GeneratedProduct {
  readonly product: Product;
  readonly leaf: number;
  readonly quality: number;
}

/** Query patterns and how often each is drawn; popularity factors favour short, generic queries. */
const patterns = [
  { kind: 'noun', draw: 0.24, popularity: 1 },
  { kind: 'attribute noun', draw: 0.24, popularity: 0.45 },
  { kind: 'attribute attribute noun', draw: 0.08, popularity: 0.15 },
  { kind: 'brand noun', draw: 0.16, popularity: 0.35 },
  { kind: 'brand attribute noun', draw: 0.1, popularity: 0.1 },
  { kind: 'brand', draw: 0.08, popularity: 0.5 },
  { kind: 'category', draw: 0.1, popularity: 0.6 },
] as const;
const TYPO_RATE = 0.08;
const NEW_PRODUCT_RATE = 0.08;

/** A seeded, deterministic world: same options → identical world. */
export function generateWorld(options: GenerateOptions): World {
  const { seed } = options;
  const maxCandidates = options.maxCandidates ?? 60;

  const marketRng = Rng.seeded(seed, 'world:market');
  const brandQuality = new Map<string, number>();
  const brandShares = new Map<string, number[]>();
  for (const department of departments) {
    for (const brand of department.brands)
      if (!brandQuality.has(brand)) brandQuality.set(brand, marketRng.normal(0, 0.6));
    // Each department has its market leaders: brand shares follow a Zipf law over a seeded order.
    brandShares.set(department.name, marketRng.shuffle(zipfWeights(department.brands.length, 0.8)));
  }
  const leafDemand = leaves.map(() => marketRng.logNormal(1, 0.6));

  const productRng = Rng.seeded(seed, 'world:products');
  const leafSizes = leaves.map(() => productRng.logNormal(1, 0.4));
  const generated: GeneratedProduct[] = [];
  for (let i = 0; i < options.products; i++) {
    // Every leaf gets a product before any gets a second, so small worlds still cover the vocabulary.
    const leaf = i < leaves.length ? i : weightedIndex(productRng, leafSizes);
    generated.push(generateProduct(productRng, i, leaf, brandQuality, brandShares));
  }
  const products = generated.map((g) => g.product);

  const related = (a: number, b: number) =>
    (leaves[a]!.related?.includes(leaves[b]!.path[2]) ?? false) ||
    (leaves[b]!.related?.includes(leaves[a]!.path[2]) ?? false);
  const byLeaf: number[][] = leaves.map(() => []);
  const byBrand = new Map<string, number[]>();
  const postings = new Map<string, number[]>();
  generated.forEach((g, i) => {
    byLeaf[g.leaf]!.push(i);
    const brand = g.product.brand!;
    const ofBrand = byBrand.get(brand);
    if (ofBrand) ofBrand.push(i);
    else byBrand.set(brand, [i]);
    for (const token of new Set(normalizeQuery(g.product.title).split(' '))) {
      const list = postings.get(token);
      if (list) list.push(i);
      else postings.set(token, [i]);
    }
  });

  const commonWord = Math.max(10, products.length * 0.1);
  const nearOfLeaf = leaves.map((_, leaf) =>
    leaves.flatMap((other, j) => {
      const a = leaves[leaf]!.path;
      const b = other.path;
      return j !== leaf && (related(leaf, j) || (a[0] === b[0] && a[1] === b[1])) ? byLeaf[j]! : [];
    }),
  );

  const queryRng = Rng.seeded(seed, 'world:queries');
  const drafts: { text: string; normalized: string; intent: Intent; demand: number }[] = [];
  const seen = new Set<string>();
  for (let attempt = 0; drafts.length < options.queries && attempt < options.queries * 30; attempt++) {
    const draft = draftQuery(queryRng, leafDemand);
    const normalized = normalizeQuery(draft.text);
    if (normalized === '' || seen.has(normalized)) continue;
    seen.add(normalized);
    drafts.push({ ...draft, normalized });
  }

  const gradeRng = Rng.seeded(seed, 'world:relevance');
  const matchOf = (intent: Intent, g: GeneratedProduct): number => {
    const spec = leaves[g.leaf]!;
    switch (intent.kind) {
      case 'leaf': {
        const wanted = leaves[intent.leaf]!;
        if (g.leaf === intent.leaf) {
          let m = relevanceModel.exactType;
          if (intent.brand !== null && intent.brand !== g.product.brand) m -= relevanceModel.constraintMiss;
          for (const [dimension, value] of intent.attributes)
            if (g.product.attributes[dimension] !== value) m -= relevanceModel.constraintMiss;
          return m;
        }
        if (related(intent.leaf, g.leaf)) return relevanceModel.relatedType;
        if (spec.path[0] === wanted.path[0] && spec.path[1] === wanted.path[1]) return relevanceModel.siblingType;
        return spec.path[0] === wanted.path[0] ? relevanceModel.sameDepartment : 0;
      }
      case 'category':
        if (spec.path[0] === intent.department && spec.path[1] === intent.category) return relevanceModel.inCategory;
        return spec.path[0] === intent.department ? relevanceModel.categoryDepartment : 0;
      case 'brand':
        return g.product.brand === intent.brand ? relevanceModel.brandMatch : 0;
    }
  };

  const ranked = [...drafts].sort((a, b) => b.demand - a.demand);
  const kept: Omit<Query, 'weight'>[] = [];
  for (const draft of ranked) {
    const rng = gradeRng.fork(draft.normalized);
    const core = coreOf(draft.intent, byLeaf, byBrand);
    // Lexical retrieval: titles sharing a query word, ignoring words too common to retrieve by ("in", "ft").
    const lexical = draft.normalized.split(' ').flatMap((token) => {
      const list = postings.get(token) ?? [];
      return list.length <= commonWord ? list : [];
    });
    const near = draft.intent.kind === 'leaf' ? nearOfLeaf[draft.intent.leaf]! : [];
    const chosen = new Set<number>();
    const take = (pool: readonly number[], k: number) => {
      for (const i of rng.sample(
        [...new Set(pool)].filter((i) => !chosen.has(i)),
        k,
      ))
        chosen.add(i);
    };
    take(core, Math.round(maxCandidates * 0.5));
    take(lexical, Math.round(maxCandidates * 0.25));
    take(near, Math.round(maxCandidates * 0.15));
    // A few unrelated products: retrieval is never clean.
    for (let k = 0; k < 3 && chosen.size < maxCandidates; k++) chosen.add(rng.int(0, generated.length - 1));
    const candidates = rng.shuffle([...chosen].slice(0, maxCandidates));
    const grades = new Map<string, Grade>();
    for (const i of candidates) {
      const g = generated[i]!;
      const match = matchOf(draft.intent, g);
      const quality = match >= 1 ? relevanceModel.qualityWeight * (g.quality - 0.5) : 0;
      const utility = match + quality + rng.normal(0, relevanceModel.noiseSd);
      grades.set(g.product.id, Math.min(3, Math.max(0, Math.round(utility))) as Grade);
    }
    // A query nothing in the catalogue satisfies cannot be scored (its ideal DCG is 0).
    if (![...grades.values()].some((grade) => grade >= 2)) continue;
    kept.push({
      text: draft.text,
      normalized: draft.normalized,
      candidates: candidates.map((i) => generated[i]!.product.id),
      grades,
    });
  }
  // Popularity by rank of demand: an exact Zipf law over the queries kept.
  const weights = zipfWeights(kept.length, options.zipfExponent ?? 1);
  const queries: Query[] = kept.map((q, rank) => ({ ...q, weight: weights[rank]! }));

  return makeWorld('generated', options.currency ?? 'USD', products, queries);

  function draftQuery(rng: Rng, demand: readonly number[]): { text: string; intent: Intent; demand: number } {
    const pattern =
      patterns[
        weightedIndex(
          rng,
          patterns.map((p) => p.draw),
        )
      ]!;
    const noise = rng.logNormal(1, 0.5);
    if (pattern.kind === 'brand') {
      const department = rng.pick(departments);
      const brand = rng.pick(department.brands);
      return { text: brand.toLowerCase(), intent: { kind: 'brand', brand }, demand: pattern.popularity * noise };
    }
    if (pattern.kind === 'category') {
      const leaf = rng.pick(leaves);
      const [department, category] = leaf.path;
      const inCategory = leaves.flatMap((l, i) => (l.path[0] === department && l.path[1] === category ? [i] : []));
      const categoryDemand = inCategory.reduce((sum, i) => sum + demand[i]!, 0) / inCategory.length;
      return {
        text: category.toLowerCase(),
        intent: { kind: 'category', department, category },
        demand: pattern.popularity * categoryDemand * noise,
      };
    }
    const leaf = weightedIndex(rng, demand);
    const spec = leaves[leaf]!;
    const dimensions = Object.keys(spec.attributes);
    const attributeCount = pattern.kind.split(' ').filter((w) => w === 'attribute').length;
    const picked = rng.sample(dimensions, attributeCount).map((d) => [d, rng.pick(spec.attributes[d]!)] as const);
    const brand = pattern.kind.startsWith('brand') ? rng.pick(departmentOf(spec).brands) : null;
    const words = [
      ...(brand ? [brand] : []),
      ...picked.map(([, value]) => value.replace(/\.$/, '')),
      rng.pick(spec.nouns),
    ].map((w) => w.toLowerCase());
    let text = words.join(' ');
    let typoFactor = 1;
    if (rng.chance(TYPO_RATE)) {
      text = withTypo(rng, text);
      typoFactor = 0.3;
    }
    return {
      text,
      intent: { kind: 'leaf', leaf, brand, attributes: picked },
      demand: pattern.popularity * demand[leaf]! * typoFactor * noise,
    };
  }

  function departmentOf(spec: LeafSpec) {
    return departments.find((d) => d.name === spec.path[0])!;
  }

  function generateProduct(
    rng: Rng,
    index: number,
    leaf: number,
    qualityOfBrand: ReadonlyMap<string, number>,
    shares: ReadonlyMap<string, number[]>,
  ): GeneratedProduct {
    const spec = leaves[leaf]!;
    const department = departmentOf(spec);
    const brand = department.brands[weightedIndex(rng, shares.get(department.name)!)]!;
    const quality = 1 / (1 + Math.exp(-(qualityOfBrand.get(brand)! + rng.normal(0, 1))));
    const attributes: Record<string, string> = {};
    for (const [dimension, values] of Object.entries(spec.attributes)) attributes[dimension] = rng.pick(values);

    const words = [brand];
    if (rng.chance(0.5)) words.push(rng.pick(seriesNames));
    // Not every title spells out every attribute: attribute queries match only some relevant titles.
    for (const value of Object.values(attributes)) if (rng.chance(0.75)) words.push(value);
    words.push(titleCase(rng.chance(0.6) ? spec.nouns[0]! : rng.pick(spec.nouns)));
    if (spec.extras && rng.chance(0.3)) words.push(rng.pick(spec.extras));
    if (rng.chance(0.6)) words.push(`${brand.slice(0, 2).toUpperCase()}${rng.int(100, 9999)}`);

    const [low, high] = spec.price;
    const sigma = Math.log(high / low) / 4;
    const price = rng.logNormal(Math.sqrt(low * high), sigma) * (1 + 0.3 * (quality - 0.5));
    const priceMinor = Math.max(99, Math.round(Math.min(high, Math.max(low, price))) * 100 - 1);

    const isNew = rng.chance(NEW_PRODUCT_RATE);
    const reviewCount = isNew ? 0 : Math.max(1, Math.round(rng.logNormal(20 + 80 * quality, 1.1)));
    // Ratings reveal quality, but noisily when there are few reviews.
    const rating = isNew
      ? null
      : Math.round(
          Math.min(5, Math.max(1, 3.2 + 1.6 * quality + rng.normal(0, 0.3 + 1 / Math.sqrt(reviewCount)))) * 10,
        ) / 10;
    return {
      leaf,
      quality,
      product: {
        id: `p-${String(index + 1).padStart(6, '0')}`,
        title: words.join(' '),
        brand,
        categoryPath: [...spec.path],
        priceMinor,
        rating,
        reviewCount,
        attributes,
      },
    };
  }
}

function coreOf(intent: Intent, byLeaf: readonly number[][], byBrand: ReadonlyMap<string, number[]>): number[] {
  switch (intent.kind) {
    case 'leaf':
      return byLeaf[intent.leaf]!;
    case 'brand':
      return byBrand.get(intent.brand) ?? [];
    case 'category':
      return leaves.flatMap((leaf, i) =>
        leaf.path[0] === intent.department && leaf.path[1] === intent.category ? byLeaf[i]! : [],
      );
  }
}

function weightedIndex(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let target = rng.float() * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i]!;
    if (target < 0) return i;
  }
  return weights.length - 1;
}

function titleCase(text: string): string {
  return text.replace(/(^|\s)(\p{Ll})/gu, (_, space: string, letter: string) => space + letter.toUpperCase());
}

/** One of the typing slips that query logs are full of: a swapped, dropped or doubled letter. */
function withTypo(rng: Rng, text: string): string {
  const words = text.split(' ');
  const candidates = words.flatMap((w, i) => (/^\p{L}{5,}$/u.test(w) ? [i] : []));
  if (candidates.length === 0) return text;
  const i = rng.pick(candidates);
  const word = words[i]!;
  const at = rng.int(1, word.length - 2);
  switch (rng.int(0, 2)) {
    case 0:
      words[i] = word.slice(0, at) + word[at + 1]! + word[at]! + word.slice(at + 2);
      break;
    case 1:
      words[i] = word.slice(0, at) + word.slice(at + 1);
      break;
    default:
      words[i] = word.slice(0, at) + word[at]! + word.slice(at);
  }
  return words.join(' ');
}
