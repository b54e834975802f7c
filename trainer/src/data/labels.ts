import { attributionMs, maxAttributionMs, type DataConfig } from './data-config.ts';
import { datePartitions, type Period } from './period.ts';

/**
 * SQL that labels every product shown in the example period (table `labelled`: one row per
 * impression and distinct product, with its first position), from the clicks, carts and purchases that
 * followed it within their attribution windows. The label is the highest grade among them (purchase 3
 * > add-to-cart 2 > click 1 by default), or the shown grade (0) when nothing followed.
 *
 * Attribution:
 *  - an interaction that names its impression (impression_id) counts for that impression, if it shows
 *    the product and the interaction came within the window after it;
 *  - one that does not is matched by an as-of join to the latest impression at or before it in the
 *    same session that showed the product, again within the window.
 * Impressions up to the end of the data are candidates of the as-of join (a click after the period
 * belongs to the latest impression, even if that one is not an example), but only those in the
 * example period are labelled.
 */
export function labelStatements(config: DataConfig, period: Period): string[] {
  const { labels } = config;
  const candidatesFrom = period.examplesFrom - maxAttributionMs(config);
  const interaction = (view: string, grade: number, windowMs: number) =>
    `SELECT ${grade} AS grade, ${windowMs}::BIGINT AS window_ms, impression_id, session_id, product_id, ts
     FROM ${view}
     WHERE ${datePartitions(period.examplesFrom, period.end)} AND ts >= ${period.examplesFrom} AND ts < ${period.end}`;
  return [
    // Every shown product of the candidate impressions; a product listed twice counts once, at its first position.
    `CREATE OR REPLACE TABLE shown AS
     SELECT i.event_id AS impression_id, any_value(i.request_id) AS request_id, any_value(i.session_id) AS session_id,
            any_value(i.ts) AS ts, any_value(i.normalized_query) AS normalized_query,
            u.item.product_id AS product_id, min(u.item."position") AS "position"
     FROM impressions i, UNNEST(i.items) AS u(item)
     WHERE ${datePartitions(candidatesFrom, period.end)} AND i.ts >= ${candidatesFrom} AND i.ts < ${period.end}
     GROUP BY i.event_id, u.item.product_id`,
    `CREATE OR REPLACE TABLE interactions AS
     ${interaction('clicks', labels.click, attributionMs(config, 'click'))}
     UNION ALL ${interaction('add_to_carts', labels.add_to_cart, attributionMs(config, 'add_to_cart'))}
     UNION ALL ${interaction('purchases', labels.purchase, attributionMs(config, 'purchase'))}`,
    `CREATE OR REPLACE TABLE attributed AS
     SELECT s.impression_id, s.product_id, max(x.grade) AS grade
     FROM interactions x JOIN shown s ON s.impression_id = x.impression_id AND s.product_id = x.product_id
     WHERE x.ts >= s.ts AND x.ts <= s.ts + x.window_ms
     GROUP BY ALL
     UNION ALL
     SELECT s.impression_id, s.product_id, max(x.grade) AS grade
     FROM (SELECT * FROM interactions WHERE impression_id IS NULL) x
     ASOF JOIN shown s ON x.session_id = s.session_id AND x.product_id = s.product_id AND x.ts >= s.ts
     WHERE x.ts <= s.ts + x.window_ms
     GROUP BY ALL`,
    `CREATE OR REPLACE TABLE labelled AS
     SELECT s.impression_id, s.request_id, s.session_id, s.ts, s.normalized_query, s.product_id, s."position",
            coalesce(max(a.grade), ${labels.shown}) AS label
     FROM shown s LEFT JOIN attributed a ON a.impression_id = s.impression_id AND a.product_id = s.product_id
     WHERE s.ts >= ${period.examplesFrom} AND s.ts < ${period.examplesTo}
     GROUP BY ALL`,
    'DROP TABLE attributed',
    'DROP TABLE interactions',
    'DROP TABLE shown',
  ];
}
