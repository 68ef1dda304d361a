-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 3. Gold: sales trends
-- MAGIC
-- MAGIC Items sold per day, month and year; item popularity; the top customers; the distribution
-- MAGIC of basket sizes; and how closely monthly sales of one year follow the year before
-- MAGIC (Pearson correlation over the twelve months). "Items sold" counts lines, so an item bought
-- MAGIC twice in one visit counts twice.

-- COMMAND ----------

CREATE SCHEMA IF NOT EXISTS gold;

-- COMMAND ----------

-- DBTITLE 1,Items sold per day, month and year
CREATE OR REPLACE TABLE gold.sales_daily USING DELTA PARTITIONED BY (year) AS
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
GROUP BY txn_date, year, month, day, week_of_year, day_of_week;

CREATE OR REPLACE TABLE gold.sales_monthly USING DELTA AS
SELECT
  year,
  month,
  CAST(sum(quantity) AS BIGINT) AS items_sold,
  CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets,
  CAST(count(DISTINCT member_number) AS BIGINT) AS customers,
  CAST(count(DISTINCT item) AS BIGINT) AS distinct_items
FROM silver.transactions_enriched
GROUP BY year, month;

CREATE OR REPLACE TABLE gold.sales_yearly USING DELTA AS
SELECT
  year,
  CAST(sum(quantity) AS BIGINT) AS items_sold,
  CAST(count(DISTINCT basket_id) AS BIGINT) AS baskets,
  CAST(count(DISTINCT member_number) AS BIGINT) AS customers,
  CAST(count(DISTINCT item) AS BIGINT) AS distinct_items
FROM silver.transactions_enriched
GROUP BY year;

-- COMMAND ----------

-- DBTITLE 1,Monthly sales: correlation of each year with the next
CREATE OR REPLACE TABLE gold.sales_year_correlation USING DELTA AS
SELECT
  a.year,
  b.year AS next_year,
  CAST(count(*) AS INT) AS months,
  corr(CAST(a.items_sold AS DOUBLE), CAST(b.items_sold AS DOUBLE)) AS correlation
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
