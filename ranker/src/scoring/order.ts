/**
 * Positions of the candidates: indices into the input, best first. Higher scores first; equal scores
 * (and NaN, which sorts last) keep their input order, so a ranking is deterministic. Without scores
 * (no model) the input order is the ranking.
 */
export function rankingOrder(count: number, scores: Float64Array | undefined): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (scores === undefined) return order;
  const key = (i: number) => {
    const s = scores[i]!;
    return Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s;
  };
  // TypedArray#sort is stable (ES2019+), so ties stay in input order.
  return order.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka === kb ? 0 : ka > kb ? -1 : 1;
  });
}
