/**
 * The series names a set of scraped metric families makes available to PromQL: a counter or gauge
 * by its name, a histogram as `_bucket`, `_sum` and `_count`, a summary as itself (its quantiles),
 * `_sum` and `_count`. Families are what a `/metrics` scrape lists (parse-prometheus-text-format).
 */
export function seriesNames(families: readonly { readonly name: string; readonly type: string }[]): Set<string> {
  const names = new Set<string>();
  for (const { name, type } of families) {
    switch (type.toUpperCase()) {
      case 'HISTOGRAM':
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
        break;
      case 'SUMMARY':
        for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
        break;
      default:
        names.add(name);
    }
  }
  return names;
}

/** Series Prometheus itself writes for every target (not in any /metrics page). */
export const SYNTHETIC_SERIES: ReadonlySet<string> = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'ALERTS',
  'ALERTS_FOR_STATE',
]);
