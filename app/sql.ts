// Every SQL text the app runs, in one place, so that a renamed table or column is one edit here.
//
// The texts run unchanged on DuckDB (the local Delta tables) and on a Databricks SQL warehouse (Spark SQL), so
// they keep to SQL both accept. Values are always bound as named `:name` markers, never spliced into the text;
// the only parts chosen at run time are a sort column and direction, picked from the fixed lists below, and a
// table name from the fixed table list. Numbers are CAST in the text because the warehouse driver types a JS
// number as INTEGER or DOUBLE depending on its value.

/** The tables the app reads, as `schema.name` (the Data section lists them in this order). */
export const TABLES = [
  'gold.sales_daily',
  'gold.sales_monthly',
  'gold.sales_yearly',
  'gold.sales_year_correlation',
  'gold.item_popularity',
  'gold.top_customers',
  'gold.basket_size_distribution',
  'gold.frequent_itemsets',
  'gold.association_rules',
  'silver.transactions',
  'silver.baskets',
  'silver.transactions_enriched',
] as const;
export type TableName = (typeof TABLES)[number];

export function isTableName(name: string): name is TableName {
  return (TABLES as readonly string[]).includes(name);
}

export const overview = `
SELECT
  (SELECT CAST(sum(quantity) AS BIGINT) FROM silver.transactions) AS transactions,
  (SELECT CAST(count(*) AS BIGINT) FROM silver.baskets) AS baskets,
  (SELECT CAST(count(*) AS BIGINT) FROM gold.item_popularity) AS items,
  (SELECT CAST(count(DISTINCT member_number) AS BIGINT) FROM silver.baskets) AS customers,
  (SELECT min(txn_date) FROM silver.baskets) AS first_date,
  (SELECT max(txn_date) FROM silver.baskets) AS last_date,
  (SELECT CAST(count(*) AS BIGINT) FROM gold.association_rules) AS rules`;

/**
 * Items sold and baskets in the last :days days of the data, and in the :days before (the overview's trend). The
 * windows end at the last day with sales, so that old data still shows its latest movement. `date - int` is a
 * date in both engines (Spark turns it into date_sub).
 */
export const salesTrend = `
WITH bounds AS (SELECT max(txn_date) AS last_date FROM gold.sales_daily),
windowed AS (
  SELECT d.txn_date, d.items_sold, d.baskets,
    CASE
      WHEN d.txn_date > b.last_date - CAST(:days AS INT) THEN 'current'
      WHEN d.txn_date > b.last_date - CAST(:days AS INT) * 2 THEN 'previous'
    END AS period
  FROM gold.sales_daily d CROSS JOIN bounds b
)
SELECT period, min(txn_date) AS first_date, max(txn_date) AS last_date,
  CAST(sum(items_sold) AS BIGINT) AS items_sold, CAST(sum(baskets) AS BIGINT) AS baskets
FROM windowed
WHERE period IS NOT NULL
GROUP BY period`;

export const salesDaily = `
SELECT txn_date, items_sold, baskets FROM gold.sales_daily ORDER BY txn_date`;

export const salesMonthly = `
SELECT year, month, items_sold, baskets, customers FROM gold.sales_monthly ORDER BY year, month`;

export const salesYearly = `
SELECT year, items_sold, baskets, customers, distinct_items FROM gold.sales_yearly ORDER BY year`;

export const salesYearCorrelation = `
SELECT year, next_year, months, correlation FROM gold.sales_year_correlation ORDER BY year`;

export const topItems = `
SELECT popularity_rank, item, items_sold, baskets, customers, basket_share
FROM gold.item_popularity
ORDER BY popularity_rank
LIMIT :limit`;

/** How many items sold how much: :bins equal-width bins from the least to the most sold item. */
export const itemSalesHistogram = `
WITH bounds AS (
  SELECT min(items_sold) AS low, max(items_sold) AS high FROM gold.item_popularity
),
sized AS (
  SELECT low, CAST(greatest(1, ceil(CAST(high - low + 1 AS DOUBLE) / CAST(:bins AS DOUBLE))) AS BIGINT) AS width
  FROM bounds
),
binned AS (
  SELECT CAST(floor(CAST(i.items_sold - s.low AS DOUBLE) / CAST(s.width AS DOUBLE)) AS BIGINT) AS bin, s.low, s.width
  FROM gold.item_popularity i
  CROSS JOIN sized s
)
SELECT
  CAST(low + bin * width AS BIGINT) AS bin_start,
  CAST(low + (bin + 1) * width - 1 AS BIGINT) AS bin_end,
  CAST(count(*) AS BIGINT) AS items
FROM binned
GROUP BY bin, low, width
ORDER BY bin_start`;

export const topCustomers = `
SELECT customer_rank, member_number, items_sold, baskets, distinct_items, first_purchase, last_purchase
FROM gold.top_customers
ORDER BY customer_rank
LIMIT :limit`;

export const basketSizes = `
SELECT basket_size, baskets, share FROM gold.basket_size_distribution ORDER BY basket_size`;

/**
 * A page of a table's rows, in a stable order so that both sources show the same ones. `from` is a table reference.
 * Where nulls sort is said, because the engines differ: Spark puts them first, DuckDB last.
 */
export function tableRows(from: string): string {
  return `SELECT * FROM ${from} ORDER BY ALL NULLS LAST LIMIT :limit OFFSET :offset`;
}

export function tableCount(from: string): string {
  return `SELECT CAST(count(*) AS BIGINT) AS row_count FROM ${from}`;
}

/** Databricks: a table as it was at a version (time travel); `version` is a checked whole number. */
export function databricksTableAt(table: TableName, version: number): string {
  if (!Number.isSafeInteger(version) || version < 0)
    throw new Error(`a table version is a whole number ≥ 0, found ${version}`);
  return `${table} VERSION AS OF ${version}`;
}

/** Databricks: `sql` with each table of `versions` read as it was at that version (the served snapshot). */
export function databricksAtVersions(sql: string, versions: Partial<Record<TableName, number>>): string {
  let out = sql;
  for (const [table, version] of Object.entries(versions) as [TableName, number][]) {
    // \b keeps silver.transactions from matching the start of silver.transactions_enriched.
    out = out.replace(
      new RegExp(`\\b${table.replace('.', '\\.')}\\b`, 'g'),
      databricksTableAt(table, version),
    );
  }
  return out;
}

/** Databricks: a table's columns (col_name, data_type, comment; partition details follow a blank row). */
export function databricksDescribe(table: TableName): string {
  return `DESCRIBE TABLE ${table}`;
}

/** Databricks: a table's commits, newest first (`LIMIT 1` for the latest only). */
export function databricksHistory(table: TableName, limit?: number): string {
  return `DESCRIBE HISTORY ${table}${limit === undefined ? '' : ` LIMIT ${Math.trunc(limit)}`}`;
}
