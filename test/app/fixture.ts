// Silver and gold tables with the notebooks' names and columns, made directly in DuckDB from synthetic baskets:
// for tests that need the tables without running the pipeline, and for the benchmark's 10 million transactions.
// An item named `<script>alert(1)</script>` is among them, to show that the page prints data as text.
import type { DuckDBConnection } from '@duckdb/node-api';
import { ITEMS } from '../../src/generate/items.ts';

export const HOSTILE_ITEM = '<script>alert(1)</script>';

export interface FixtureOptions {
  /** Baskets to generate (about 2.2 lines each). */
  baskets: number;
  seed?: number;
  /** Minimum support of the frequent itemsets. */
  minSupport?: number;
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Creates schemas silver and gold in `conn` with every table the app reads. */
export async function createFixtureTables(conn: DuckDBConnection, options: FixtureOptions): Promise<void> {
  // Third most popular, so it shows among the top items and in rules.
  const items = [...ITEMS.slice(0, 2), HOSTILE_ITEM, ...ITEMS.slice(2, 60)];
  const minSupport = options.minSupport ?? 0.001;
  await conn.run(`SELECT setseed(${((options.seed ?? 42) % 1000) / 1000})`);
  await conn.run('CREATE SCHEMA IF NOT EXISTS silver; CREATE SCHEMA IF NOT EXISTS gold;');
  await conn.run(`CREATE OR REPLACE TEMP TABLE catalogue AS
    SELECT * FROM (VALUES ${items.map((item, i) => `(${i + 1}, ${quote(item)})`).join(', ')}) t(code, item)`);
  // Popularity falls off with the rank (Zipf-like): pick codes by an inverse power law.
  await conn.run(`CREATE OR REPLACE TABLE silver.baskets_raw AS
    SELECT
      CAST(b AS BIGINT) AS basket_id,
      CAST(1000 + floor(random() * 4000) AS BIGINT) AS member_number,
      CAST(DATE '2014-01-01' + CAST(floor(random() * 730) AS INTEGER) AS DATE) AS txn_date,
      CAST(1 + floor(-ln(1 - random()) * 1.6) AS INTEGER) AS lines
    FROM range(1, ${options.baskets + 1}) r(b)`);
  await conn.run(`CREATE OR REPLACE TABLE silver.transactions AS
    WITH picks AS (
      SELECT r.basket_id, r.member_number, r.txn_date,
             CAST(least(${items.length}, 1 + floor(${items.length} * pow(random(), 2.2))) AS INTEGER) AS code
      FROM silver.baskets_raw r, range(r.lines) l
    ),
    lines AS (
      SELECT p.basket_id, p.member_number, p.txn_date, c.item, CAST(count(*) AS INTEGER) AS quantity
      FROM picks p JOIN catalogue c USING (code)
      GROUP BY ALL
    )
    SELECT basket_id, member_number, txn_date, item, quantity,
           CAST(count(*) OVER (PARTITION BY basket_id) AS INTEGER) AS basket_size
    FROM lines`);
  await conn.run('DROP TABLE silver.baskets_raw');
  await conn.run(`CREATE OR REPLACE TABLE silver.transactions_enriched AS
    SELECT basket_id, member_number, txn_date, CAST(year(txn_date) AS INT) AS year,
           CAST(month(txn_date) AS INT) AS month, CAST(day(txn_date) AS INT) AS day,
           CAST(weekofyear(txn_date) AS INT) AS week_of_year, CAST(dayofweek(txn_date) + 1 AS INT) AS day_of_week,
           item, quantity, basket_size
    FROM silver.transactions`);
  await conn.run(`CREATE OR REPLACE TABLE silver.baskets AS
    SELECT basket_id, member_number, txn_date, CAST(count(*) AS INTEGER) AS basket_size,
           CAST(sum(quantity) AS INTEGER) AS quantity
    FROM silver.transactions GROUP BY ALL`);
  await createGoldTables(conn, minSupport);
}

async function createGoldTables(conn: DuckDBConnection, minSupport: number): Promise<void> {
  await createSalesTables(conn);
  await createItemAndCustomerTables(conn);
  await createRuleTables(conn, minSupport);
}

async function createSalesTables(conn: DuckDBConnection): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE gold.sales_daily AS
    SELECT txn_date, CAST(year(txn_date) AS INT) AS year, CAST(month(txn_date) AS INT) AS month,
           CAST(day(txn_date) AS INT) AS day, CAST(weekofyear(txn_date) AS INT) AS week_of_year,
           CAST(dayofweek(txn_date) + 1 AS INT) AS day_of_week,
           CAST(sum(quantity) AS BIGINT) AS items_sold, CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets
    FROM silver.transactions GROUP BY txn_date`);
  await conn.run(`CREATE OR REPLACE TABLE gold.sales_monthly AS
    SELECT CAST(year(txn_date) AS INT) AS year, CAST(month(txn_date) AS INT) AS month,
           CAST(sum(quantity) AS BIGINT) AS items_sold, CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets,
           CAST(count(DISTINCT member_number) AS BIGINT) AS customers,
           CAST(count(DISTINCT item) AS BIGINT) AS distinct_items
    FROM silver.transactions GROUP BY ALL`);
  await conn.run(`CREATE OR REPLACE TABLE gold.sales_yearly AS
    SELECT CAST(year(txn_date) AS INT) AS year,
           CAST(sum(quantity) AS BIGINT) AS items_sold, CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets,
           CAST(count(DISTINCT member_number) AS BIGINT) AS customers,
           CAST(count(DISTINCT item) AS BIGINT) AS distinct_items
    FROM silver.transactions GROUP BY ALL`);
  await conn.run(`CREATE OR REPLACE TABLE gold.sales_year_correlation AS
    SELECT a.year, b.year AS next_year, CAST(count(*) AS INT) AS months,
           corr(CAST(a.items_sold AS DOUBLE), CAST(b.items_sold AS DOUBLE)) AS correlation
    FROM gold.sales_monthly a JOIN gold.sales_monthly b ON b.year = a.year + 1 AND b.month = a.month
    GROUP BY a.year, b.year`);
}

async function createItemAndCustomerTables(conn: DuckDBConnection): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE gold.item_popularity AS
    SELECT CAST(row_number() OVER (ORDER BY items_sold DESC, item) AS INT) AS popularity_rank,
           item, items_sold, baskets, customers,
           CAST(baskets AS DOUBLE) / (SELECT count(*) FROM silver.baskets) AS basket_share
    FROM (SELECT item, CAST(sum(quantity) AS BIGINT) AS items_sold, CAST(count(*) AS BIGINT) AS baskets,
                 CAST(count(DISTINCT member_number) AS BIGINT) AS customers
          FROM silver.transactions GROUP BY item)`);
  await conn.run(`CREATE OR REPLACE TABLE gold.top_customers AS
    SELECT * FROM (
      SELECT CAST(row_number() OVER (ORDER BY items_sold DESC, baskets DESC, member_number) AS INT) AS customer_rank,
             member_number, items_sold, baskets, distinct_items, first_purchase, last_purchase
      FROM (SELECT member_number, CAST(sum(quantity) AS BIGINT) AS items_sold,
                   CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets,
                   CAST(count(DISTINCT item) AS BIGINT) AS distinct_items,
                   min(txn_date) AS first_purchase, max(txn_date) AS last_purchase
            FROM silver.transactions GROUP BY member_number))
    WHERE customer_rank <= 100`);
  await conn.run(`CREATE OR REPLACE TABLE gold.basket_size_distribution AS
    SELECT basket_size, CAST(count(*) AS BIGINT) AS baskets,
           CAST(count(*) AS DOUBLE) / (SELECT count(*) FROM silver.baskets) AS share
    FROM silver.baskets GROUP BY basket_size`);
}

async function createRuleTables(conn: DuckDBConnection, minSupport: number): Promise<void> {
  // Itemsets of one and two items, and the rules between two items (the notebook also mines triples).
  await conn.run(`CREATE OR REPLACE TABLE gold.frequent_itemsets AS
    WITH total AS (SELECT CAST(count(*) AS DOUBLE) AS n FROM silver.baskets),
    singles AS (SELECT item, count(*) AS c FROM silver.transactions GROUP BY item),
    frequent AS (SELECT s.item, s.c FROM singles s, total WHERE s.c / total.n >= ${minSupport}),
    pairs AS (
      SELECT a.item AS item_1, b.item AS item_2, count(*) AS c
      FROM silver.transactions a JOIN silver.transactions b ON a.basket_id = b.basket_id AND a.item < b.item
      WHERE a.item IN (SELECT item FROM frequent) AND b.item IN (SELECT item FROM frequent)
      GROUP BY ALL
    )
    SELECT item AS item_1, CAST(NULL AS VARCHAR) AS item_2, CAST(NULL AS VARCHAR) AS item_3, 1 AS length,
           CAST(c AS BIGINT) AS basket_count, c / total.n AS support
    FROM frequent, total
    UNION ALL
    SELECT item_1, item_2, NULL, 2, CAST(c AS BIGINT), c / total.n
    FROM pairs, total WHERE c / total.n >= ${minSupport}`);
  await conn.run(`CREATE OR REPLACE TABLE gold.association_rules AS
    WITH singles AS (SELECT item_1 AS item, support FROM gold.frequent_itemsets WHERE length = 1),
    pairs AS (SELECT item_1, item_2, support FROM gold.frequent_itemsets WHERE length = 2),
    splits AS (
      SELECT item_1 AS a, item_2 AS c, support FROM pairs
      UNION ALL SELECT item_2, item_1, support FROM pairs
    ),
    measured AS (
      SELECT s.a, s.c, sa.support AS antecedent_support, sc.support AS consequent_support, s.support,
             s.support / sa.support AS confidence
      FROM splits s JOIN singles sa ON sa.item = s.a JOIN singles sc ON sc.item = s.c
    )
    SELECT a AS antecedents, c AS consequents, a AS antecedent_1, CAST(NULL AS VARCHAR) AS antecedent_2,
           c AS consequent_1, CAST(NULL AS VARCHAR) AS consequent_2,
           antecedent_support, consequent_support, support, confidence,
           confidence / consequent_support AS lift, CAST(1 AS DOUBLE) AS representativity,
           support - antecedent_support * consequent_support AS leverage,
           CASE WHEN confidence < 1 THEN (1 - consequent_support) / (1 - confidence)
                ELSE CAST('Infinity' AS DOUBLE) END AS conviction,
           CAST(0 AS DOUBLE) AS zhangs_metric,
           support / (antecedent_support + consequent_support - support) AS jaccard,
           (confidence - consequent_support) / (1 - consequent_support) AS certainty,
           (support / antecedent_support + support / consequent_support) / 2 AS kulczynski
    FROM measured`);
}
