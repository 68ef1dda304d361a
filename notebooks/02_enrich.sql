-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 2. Enrich the transactions with calendar fields
-- MAGIC
-- MAGIC `silver.transactions_enriched`: `silver.transactions` with year, month, day of month, ISO week
-- MAGIC of year and day of week (1 = Sunday … 7 = Saturday, as Spark numbers them), partitioned by year.
-- MAGIC
-- MAGIC Incremental: only the rows of the baskets notebook 1 changed (`silver.changed_baskets`) are
-- MAGIC recomputed and merged; with `full_refresh` every row is.

-- COMMAND ----------

-- DBTITLE 1,Calendar fields, for the changed baskets
CREATE OR REPLACE TEMPORARY VIEW transactions_enriched_changed AS
SELECT
  s.basket_id,
  s.member_number,
  s.txn_date,
  CAST(year(s.txn_date) AS INT) AS year,
  CAST(month(s.txn_date) AS INT) AS month,
  CAST(day(s.txn_date) AS INT) AS day,
  CAST(weekofyear(s.txn_date) AS INT) AS week_of_year,
  CAST(dayofweek(s.txn_date) AS INT) AS day_of_week,
  s.item,
  s.quantity,
  s.basket_size
FROM silver.transactions s
JOIN silver.changed_baskets c ON s.member_number = c.member_number AND s.txn_date = c.txn_date;

CREATE TABLE IF NOT EXISTS silver.transactions_enriched USING DELTA PARTITIONED BY (year) AS
SELECT basket_id, member_number, txn_date, year, month, day, week_of_year, day_of_week, item, quantity, basket_size
FROM transactions_enriched_changed
WHERE false;

-- The changed baskets' rows replace their old rows; an old row that silver.transactions no longer has goes.
MERGE INTO silver.transactions_enriched t
USING (
  SELECT basket_id, member_number, txn_date, year, month, day, week_of_year, day_of_week, item, quantity,
         basket_size, false AS _gone
  FROM transactions_enriched_changed
  UNION ALL
  SELECT o.basket_id, o.member_number, o.txn_date, o.year, o.month, o.day, o.week_of_year, o.day_of_week, o.item,
         o.quantity, o.basket_size, true AS _gone
  FROM silver.transactions_enriched o
  WHERE (CAST(:full_refresh AS BOOLEAN)
         OR EXISTS (SELECT 1 FROM silver.changed_baskets c
                    WHERE c.member_number = o.member_number AND c.txn_date = o.txn_date))
    AND NOT EXISTS (SELECT 1 FROM transactions_enriched_changed n
                    WHERE n.member_number = o.member_number AND n.txn_date = o.txn_date AND n.item = o.item)
) s
ON t.member_number = s.member_number AND t.txn_date = s.txn_date AND t.item = s.item
WHEN MATCHED AND s._gone THEN DELETE
WHEN MATCHED THEN UPDATE SET basket_id = s.basket_id, quantity = s.quantity, basket_size = s.basket_size
WHEN NOT MATCHED THEN INSERT (basket_id, member_number, txn_date, year, month, day, week_of_year, day_of_week, item,
                              quantity, basket_size)
  VALUES (s.basket_id, s.member_number, s.txn_date, s.year, s.month, s.day, s.week_of_year, s.day_of_week, s.item,
          s.quantity, s.basket_size);

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
