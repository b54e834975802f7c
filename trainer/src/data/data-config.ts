import { z } from 'zod';

/**
 * How training examples are built (trainer/config/data.json).
 *
 *  labels                  grade of a shown product by the strongest thing that followed it within its
 *                          attribution window: purchase > add-to-cart > click > shown-not-clicked.
 *  attribution_minutes     how long after the impression a click / cart / purchase still counts for it.
 *                          An interaction naming its impression (impression_id) is matched to it; one
 *                          that does not is matched to the latest earlier impression of the same session
 *                          that showed the product.
 *  window_days             the examples' period: impressions in the last `window_days` before the end
 *                          whose every attribution window has closed by the end (labels are final).
 *  warmup_days             events replayed before the period so that rolling windows are complete at its
 *                          start (the longest window is 30 days).
 *  features                where an example's features come from: "log" — the ranker's feature log
 *                          only (exactly as served); "backfill" — replay of the events through the feature
 *                          module as of each impression (first run, new features); "auto" — the log where
 *                          it has the list under the current feature spec and was not degraded, the
 *                          replay for everything else.
 *  keep_lists_without_clicks  false: served lists in which nothing was clicked are counted (they are
 *                          in CTR@10's denominator) but not written as examples: lambdarank gets no
 *                          gradient from them and NDCG/MRR exclude them.
 */
const minutes = z.number().positive();

export const dataConfigSchema = z.strictObject({
  labels: z.strictObject({
    shown: z.number().int().min(0),
    click: z.number().int().min(1),
    add_to_cart: z.number().int().min(1),
    purchase: z.number().int().min(1),
  }),
  attribution_minutes: z.strictObject({ click: minutes, add_to_cart: minutes, purchase: minutes }),
  window_days: z.number().positive(),
  warmup_days: z.number().min(0),
  features: z.enum(['auto', 'log', 'backfill']),
  keep_lists_without_clicks: z.boolean(),
});
export type DataConfig = z.infer<typeof dataConfigSchema>;
export type FeatureSource = DataConfig['features'];

export const INTERACTIONS = ['click', 'add_to_cart', 'purchase'] as const;
export type Interaction = (typeof INTERACTIONS)[number];

export function attributionMs(config: DataConfig, interaction: Interaction): number {
  return Math.round(config.attribution_minutes[interaction] * 60_000);
}

/** The longest attribution window: an impression's label is final only this long after it. */
export function maxAttributionMs(config: DataConfig): number {
  return Math.max(...INTERACTIONS.map((i) => attributionMs(config, i)));
}
