import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC_VERSION } from '@searchop/schemas';
import type { DataConfig } from './data-config.ts';
import { EXAMPLES_TABLE, featureColumn } from './examples-table.ts';
import { datePartitions, type Period } from './period.ts';
import { sqlString } from './store.ts';

/**
 * Examples from the ranker's feature log: each ranking it served (ranking-log topic) joined by
 * request_id with the impressions that displayed it and their labels (table `labelled`, see
 * labels.ts). One query group per served list: all pages of one ranking form one group, each product
 * at the position it was displayed, with the feature vector exactly as the ranker scored it — no
 * training/serving skew by construction. A ranking is usable when it was scored under the current
 * feature spec and was not degraded (a degraded ranking was served on default features; its
 * impressions are backfilled instead, in "auto" mode). Shown products the ranker did not score (a
 * storefront appending products after the ranked ones) have no logged vector and are left out.
 *
 * The statements also decide, per shown product, where its features come from (table
 * `example_items`), which lists count (table `lists`, with whether anything in them was clicked), and
 * which impressions the replay must turn into examples (table `backfill_groups`).
 */
export function featureLogStatements(config: DataConfig, period: Period): string[] {
  const mode = config.features;
  const logFrom = period.examplesFrom - 86_400_000;
  const usableLog = `SELECT request_id, min(ts) AS ts FROM ranking_log
     WHERE ${datePartitions(logFrom, period.examplesTo)} AND ts >= ${logFrom} AND ts < ${period.examplesTo}
       AND feature_spec_version = ${sqlString(FEATURE_SPEC_VERSION)} AND NOT degraded
     GROUP BY request_id`;
  const join =
    mode === 'backfill'
      ? 'LEFT JOIN (SELECT NULL::VARCHAR AS request_id, NULL::BIGINT AS ts WHERE false) u ON false'
      : `${mode === 'log' ? 'JOIN' : 'LEFT JOIN'} usable_log u ON u.request_id = l.request_id`;
  const keep = config.keep_lists_without_clicks ? 'true' : 'clicked';
  const features = FEATURE_NAMES.map((name, i) => `r.features[${i + 1}] AS ${featureColumn(name)}`).join(', ');
  return [
    `CREATE OR REPLACE TABLE usable_log AS ${usableLog}`,
    `CREATE OR REPLACE TABLE example_items AS
     SELECT CASE WHEN u.request_id IS NULL THEN 'backfill' ELSE 'log' END AS source,
            CASE WHEN u.request_id IS NULL THEN l.impression_id ELSE l.request_id END AS query_id,
            coalesce(u.ts, l.ts) AS ts, l.impression_id, l.normalized_query, l.product_id, l."position", l.label
     FROM labelled l ${join}`,
    `CREATE OR REPLACE TABLE lists AS
     SELECT source, query_id, min(ts) AS ts, max(label) > ${config.labels.shown} AS clicked
     FROM example_items GROUP BY source, query_id`,
    `CREATE OR REPLACE TABLE logged_items AS
     SELECT request_id, item.product_id AS product_id, any_value(item.features) AS features
     FROM (SELECT request_id, unnest(items) AS item FROM ranking_log
           WHERE ${datePartitions(logFrom, period.examplesTo)} AND ts >= ${logFrom} AND ts < ${period.examplesTo}
             AND request_id IN (SELECT query_id FROM lists WHERE source = 'log' AND ${keep}))
     WHERE len(item.features) = ${FEATURE_COUNT}
     GROUP BY request_id, item.product_id`,
    `INSERT INTO ${EXAMPLES_TABLE}
     SELECT e.query_id, max(e.label), min(e."position"), min(e.ts), any_value(e.normalized_query), e.product_id, 'log',
            ${FEATURE_NAMES.map((name) => `any_value(${featureColumn(name)})`).join(', ')}
     FROM example_items e
     JOIN (SELECT request_id, product_id, ${features} FROM logged_items r) f
       ON f.request_id = e.query_id AND f.product_id = e.product_id
     WHERE e.source = 'log' AND e.query_id IN (SELECT query_id FROM lists WHERE source = 'log' AND ${keep})
     GROUP BY e.query_id, e.product_id`,
    'DROP TABLE logged_items',
    `CREATE OR REPLACE TABLE backfill_groups AS
     SELECT impression_id, any_value(query_id) AS group_id,
            list(struct_pack(product_id := product_id, label := label)) AS labels
     FROM example_items
     WHERE source = 'backfill' AND query_id IN (SELECT query_id FROM lists WHERE source = 'backfill' AND ${keep})
     GROUP BY impression_id`,
  ];
}
