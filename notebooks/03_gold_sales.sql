-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 3. Gold: sales trends
-- MAGIC
-- MAGIC Items sold per day, month and year; item popularity; the top customers; the distribution
-- MAGIC of basket sizes; and how closely monthly sales of one year follow the year before
-- MAGIC (Pearson correlation over the twelve months). "Items sold" counts lines, so an item bought
-- MAGIC twice in one visit counts twice.
-- MAGIC
-- MAGIC Incremental: the days, months and years of the baskets notebook 1 changed are recomputed from
-- MAGIC silver and merged (counts of distinct baskets, customers and items cannot be patched by
-- MAGIC subtraction; recomputing a changed group is exact). Item popularity, the top customers, the
-- MAGIC basket sizes and the correlation are ranks and shares of the whole, recomputed from silver.

-- COMMAND ----------

CREATE SCHEMA IF NOT EXISTS gold;

-- COMMAND ----------

-- DBTITLE 1,Items sold per day, month and year, for the changed days
-- The days of the changed baskets, with their months and years.
CREATE OR REPLACE TEMPORARY VIEW changed_days AS
SELECT DISTINCT txn_date, CAST(year(txn_date) AS INT) AS year, CAST(month(txn_date) AS INT) AS month
FROM silver.changed_baskets;

CREATE OR REPLACE TEMPORARY VIEW sales_daily_changed AS
SELECT
  txn_date,
  year,
  month,
  day,
  week_of_year,
  day_of_week,
  CAST(sum(quantity) AS BIGINT) AS items_sold,
  CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets
FROM silver.transactions_enriched
WHERE txn_date IN (SELECT txn_date FROM changed_days)
GROUP BY txn_date, year, month, day, week_of_year, day_of_week;

CREATE OR REPLACE TEMPORARY VIEW sales_monthly_changed AS
SELECT
  e.year,
  e.month,
  CAST(sum(e.quantity) AS BIGINT) AS items_sold,
  CAST(count(DISTINCT e.basket_id) AS BIGINT) AS baskets,
  CAST(count(DISTINCT e.member_number) AS BIGINT) AS customers,
  CAST(count(DISTINCT e.item) AS BIGINT) AS distinct_items
FROM silver.transactions_enriched e
WHERE EXISTS (SELECT 1 FROM changed_days d WHERE d.year = e.year AND d.month = e.month)
GROUP BY e.year, e.month;

CREATE OR REPLACE TEMPORARY VIEW sales_yearly_changed AS
SELECT
  year,
  CAST(sum(quantity) AS BIGINT) AS items_sold,
  CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets,
  CAST(count(DISTINCT member_number) AS BIGINT) AS customers,
  CAST(count(DISTINCT item) AS BIGINT) AS distinct_items
FROM silver.transactions_enriched
WHERE year IN (SELECT year FROM changed_days)
GROUP BY year;

-- COMMAND ----------

-- DBTITLE 1,Merge the changed days, months and years
-- A changed group's new row replaces its old one; a group left with no sales goes.
CREATE TABLE IF NOT EXISTS gold.sales_daily USING DELTA PARTITIONED BY (year) AS
SELECT txn_date, year, month, day, week_of_year, day_of_week, items_sold, baskets FROM sales_daily_changed WHERE false;

MERGE INTO gold.sales_daily t
USING (
  SELECT txn_date, year, month, day, week_of_year, day_of_week, items_sold, baskets, false AS _gone FROM sales_daily_changed
  UNION ALL
  SELECT o.txn_date, o.year, o.month, o.day, o.week_of_year, o.day_of_week, o.items_sold, o.baskets, true AS _gone
  FROM gold.sales_daily o
  WHERE (CAST(:full_refresh AS BOOLEAN) OR EXISTS (SELECT 1 FROM changed_days d WHERE d.txn_date = o.txn_date))
    AND NOT EXISTS (SELECT 1 FROM sales_daily_changed n WHERE n.txn_date = o.txn_date)
) s
ON t.txn_date = s.txn_date
WHEN MATCHED AND s._gone THEN DELETE
WHEN MATCHED THEN UPDATE SET year = s.year, month = s.month, day = s.day, week_of_year = s.week_of_year, day_of_week = s.day_of_week, items_sold = s.items_sold, baskets = s.baskets
WHEN NOT MATCHED THEN INSERT (txn_date, year, month, day, week_of_year, day_of_week, items_sold, baskets)
  VALUES (s.txn_date, s.year, s.month, s.day, s.week_of_year, s.day_of_week, s.items_sold, s.baskets);

CREATE TABLE IF NOT EXISTS gold.sales_monthly USING DELTA AS
SELECT year, month, items_sold, baskets, customers, distinct_items FROM sales_monthly_changed WHERE false;

MERGE INTO gold.sales_monthly t
USING (
  SELECT year, month, items_sold, baskets, customers, distinct_items, false AS _gone FROM sales_monthly_changed
  UNION ALL
  SELECT o.year, o.month, o.items_sold, o.baskets, o.customers, o.distinct_items, true AS _gone
  FROM gold.sales_monthly o
  WHERE (CAST(:full_refresh AS BOOLEAN) OR EXISTS (SELECT 1 FROM changed_days d WHERE d.year = o.year AND d.month = o.month))
    AND NOT EXISTS (SELECT 1 FROM sales_monthly_changed n WHERE n.year = o.year AND n.month = o.month)
) s
ON t.year = s.year AND t.month = s.month
WHEN MATCHED AND s._gone THEN DELETE
WHEN MATCHED THEN UPDATE SET items_sold = s.items_sold, baskets = s.baskets, customers = s.customers, distinct_items = s.distinct_items
WHEN NOT MATCHED THEN INSERT (year, month, items_sold, baskets, customers, distinct_items)
  VALUES (s.year, s.month, s.items_sold, s.baskets, s.customers, s.distinct_items);

CREATE TABLE IF NOT EXISTS gold.sales_yearly USING DELTA AS
SELECT year, items_sold, baskets, customers, distinct_items FROM sales_yearly_changed WHERE false;

MERGE INTO gold.sales_yearly t
USING (
  SELECT year, items_sold, baskets, customers, distinct_items, false AS _gone FROM sales_yearly_changed
  UNION ALL
  SELECT o.year, o.items_sold, o.baskets, o.customers, o.distinct_items, true AS _gone
  FROM gold.sales_yearly o
  WHERE (CAST(:full_refresh AS BOOLEAN) OR EXISTS (SELECT 1 FROM changed_days d WHERE d.year = o.year))
    AND NOT EXISTS (SELECT 1 FROM sales_yearly_changed n WHERE n.year = o.year)
) s
ON t.year = s.year
WHEN MATCHED AND s._gone THEN DELETE
WHEN MATCHED THEN UPDATE SET items_sold = s.items_sold, baskets = s.baskets, customers = s.customers, distinct_items = s.distinct_items
WHEN NOT MATCHED THEN INSERT (year, items_sold, baskets, customers, distinct_items)
  VALUES (s.year, s.items_sold, s.baskets, s.customers, s.distinct_items);

-- COMMAND ----------

-- DBTITLE 1,Monthly sales: correlation of each year with the next
CREATE OR REPLACE TABLE gold.sales_year_correlation USING DELTA AS
SELECT
  a.year,
  b.year AS next_year,
  CAST(count(*) AS INT) AS months,
  -- Undefined (NULL) with fewer than two months or a year whose months all sold the same (the first month of a
  -- new year, say): DuckDB's corr() is NaN there, Spark's NULL.
  CASE
    WHEN count(*) < 2 OR var_pop(CAST(a.items_sold AS DOUBLE)) = 0 OR var_pop(CAST(b.items_sold AS DOUBLE)) = 0 THEN NULL
    ELSE corr(CAST(a.items_sold AS DOUBLE), CAST(b.items_sold AS DOUBLE))
  END AS correlation
FROM gold.sales_monthly a
JOIN gold.sales_monthly b ON b.year = a.year + 1 AND b.month = a.month
GROUP BY a.year, b.year;

-- COMMAND ----------

-- DBTITLE 1,Item popularity
CREATE OR REPLACE TABLE gold.item_popularity USING DELTA AS
SELECT
  CAST(row_number() OVER (ORDER BY items_sold DESC, item) AS INT) AS popularity_rank,
  item,
  items_sold,
  baskets,
  customers,
  CAST(baskets AS DOUBLE) / CAST(total_baskets AS DOUBLE) AS basket_share
FROM (
  SELECT
    item,
    CAST(sum(quantity) AS BIGINT) AS items_sold,
    CAST(count(*) AS BIGINT) AS baskets,
    CAST(count(DISTINCT member_number) AS BIGINT) AS customers
  FROM silver.transactions
  GROUP BY item
) i
CROSS JOIN (SELECT count(*) AS total_baskets FROM silver.baskets) t;

-- COMMAND ----------

-- DBTITLE 1,Top customers
CREATE OR REPLACE TABLE gold.top_customers USING DELTA AS
SELECT customer_rank, member_number, items_sold, baskets, distinct_items, first_purchase, last_purchase
FROM (
  SELECT
    CAST(row_number() OVER (ORDER BY items_sold DESC, baskets DESC, member_number) AS INT) AS customer_rank,
    member_number, items_sold, baskets, distinct_items, first_purchase, last_purchase
  FROM (
    SELECT
      member_number,
      CAST(sum(quantity) AS BIGINT) AS items_sold,
      CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets,
      CAST(count(DISTINCT item) AS BIGINT) AS distinct_items,
      min(txn_date) AS first_purchase,
      max(txn_date) AS last_purchase
    FROM silver.transactions
    GROUP BY member_number
  ) c
) ranked
WHERE customer_rank <= 100;

-- COMMAND ----------

-- DBTITLE 1,Basket sizes
CREATE OR REPLACE TABLE gold.basket_size_distribution USING DELTA AS
SELECT
  basket_size,
  CAST(count(*) AS BIGINT) AS baskets,
  CAST(count(*) AS DOUBLE) / CAST(max(total) AS DOUBLE) AS share
FROM silver.baskets
CROSS JOIN (SELECT count(*) AS total FROM silver.baskets) t
GROUP BY basket_size;

-- COMMAND ----------

-- DBTITLE 1,Check: the gold tables add up to silver
SELECT assert_true(
  daily = cleaned AND monthly = cleaned AND yearly = cleaned AND by_item = cleaned,
  concat('items sold do not add up: silver ', CAST(cleaned AS STRING), ', daily ', CAST(daily AS STRING),
         ', monthly ', CAST(monthly AS STRING), ', yearly ', CAST(yearly AS STRING), ', by item ', CAST(by_item AS STRING)))
FROM (SELECT CAST(sum(quantity) AS BIGINT) AS cleaned FROM silver.transactions) s
CROSS JOIN (SELECT CAST(sum(items_sold) AS BIGINT) AS daily FROM gold.sales_daily) d
CROSS JOIN (SELECT CAST(sum(items_sold) AS BIGINT) AS monthly FROM gold.sales_monthly) m
CROSS JOIN (SELECT CAST(sum(items_sold) AS BIGINT) AS yearly FROM gold.sales_yearly) y
CROSS JOIN (SELECT CAST(sum(items_sold) AS BIGINT) AS by_item FROM gold.item_popularity) i;

SELECT assert_true(
  distributed = baskets AND abs(shares - 1) < 1e-9,
  concat('gold.basket_size_distribution covers ', CAST(distributed AS STRING), ' of ', CAST(baskets AS STRING),
         ' baskets, shares sum to ', CAST(shares AS STRING)))
FROM (SELECT CAST(sum(baskets) AS BIGINT) AS distributed, sum(share) AS shares FROM gold.basket_size_distribution) d
CROSS JOIN (SELECT count(*) AS baskets FROM silver.baskets) b;

SELECT assert_true(
  correlation IS NULL OR correlation BETWEEN -1.000000001 AND 1.000000001,
  concat('gold.sales_year_correlation: correlation ', CAST(correlation AS STRING), ' for ', CAST(year AS STRING)))
FROM gold.sales_year_correlation;

-- COMMAND ----------

-- DBTITLE 1,Done: every table holds the change
-- Emptied only now: a run that fails before here leaves the changed baskets for the next run to recompute.
CREATE OR REPLACE TABLE silver.changed_baskets USING DELTA AS
SELECT member_number, txn_date FROM silver.changed_baskets WHERE false;
