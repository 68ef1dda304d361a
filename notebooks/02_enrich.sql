-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 2. Enrich the transactions with calendar fields
-- MAGIC
-- MAGIC `silver.transactions_enriched`: `silver.transactions` with year, month, day of month, ISO week
-- MAGIC of year and day of week (1 = Sunday … 7 = Saturday, as Spark numbers them), partitioned by year.

-- COMMAND ----------

-- DBTITLE 1,Calendar fields
CREATE OR REPLACE TABLE silver.transactions_enriched USING DELTA PARTITIONED BY (year) AS
SELECT
  basket_id,
  member_number,
  txn_date,
  CAST(year(txn_date) AS INT) AS year,
  CAST(month(txn_date) AS INT) AS month,
  CAST(day(txn_date) AS INT) AS day,
  CAST(weekofyear(txn_date) AS INT) AS week_of_year,
  CAST(dayofweek(txn_date) AS INT) AS day_of_week,
  item,
  quantity,
  basket_size
FROM silver.transactions;

-- COMMAND ----------

-- DBTITLE 1,Check: every row enriched, calendar fields in range
SELECT assert_true(
  enriched = cleaned,
  concat('silver.transactions_enriched has ', CAST(enriched AS STRING), ' rows, silver.transactions ', CAST(cleaned AS STRING)))
FROM (SELECT count(*) AS enriched FROM silver.transactions_enriched) e
CROSS JOIN (SELECT count(*) AS cleaned FROM silver.transactions) c;

SELECT assert_true(
  bad_rows = 0,
  concat('silver.transactions_enriched: ', CAST(bad_rows AS STRING), ' rows have a calendar field out of range'))
FROM (
  SELECT count_if(
    year IS NULL OR month NOT BETWEEN 1 AND 12 OR day NOT BETWEEN 1 AND 31
    OR week_of_year NOT BETWEEN 1 AND 53 OR day_of_week NOT BETWEEN 1 AND 7) AS bad_rows
  FROM silver.transactions_enriched
) checked;
