-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 1. Extract and clean the transactions
-- MAGIC
-- MAGIC Reads the transactions that the load stage put into the SQL store, checks them against the
-- MAGIC load audit, and writes the cleaned silver tables:
-- MAGIC
-- MAGIC - `silver.transactions`: one row per basket and item. Item names are trimmed (the source
-- MAGIC   carries trailing spaces and carriage returns), dates are dates, and identical lines (same
-- MAGIC   member, day and item) are one row whose `quantity` counts them, so no sale is lost. A
-- MAGIC   source line loaded twice counts once.
-- MAGIC - `silver.baskets`: a basket is one member on one day.
-- MAGIC
-- MAGIC Parameter: `dataset`, the dataset name the load stage records in its audit table.
-- MAGIC
-- MAGIC On Databricks the extraction reads SQL Server over JDBC with the credentials kept in the
-- MAGIC `lakehouse` secret scope; the local runner reads the same tables from the configured SQL store.

-- COMMAND ----------

CREATE SCHEMA IF NOT EXISTS silver;

-- COMMAND ----------

-- DBTITLE 1,Extract the transactions and the load audit from SQL Server
CREATE OR REPLACE TEMPORARY VIEW transactions_raw
USING sqlserver
OPTIONS (
  host secret('lakehouse', 'sqlserver-host'),
  port '1433',
  database secret('lakehouse', 'sqlserver-database'),
  dbtable 'dbo.transactions',
  user secret('lakehouse', 'sqlserver-user'),
  password secret('lakehouse', 'sqlserver-password')
);

CREATE OR REPLACE TEMPORARY VIEW load_audit
USING sqlserver
OPTIONS (
  host secret('lakehouse', 'sqlserver-host'),
  port '1433',
  database secret('lakehouse', 'sqlserver-database'),
  dbtable 'dbo.lakehouse_load_audit',
  user secret('lakehouse', 'sqlserver-user'),
  password secret('lakehouse', 'sqlserver-password')
);

-- COMMAND ----------

-- DBTITLE 1,Check: extracted keys are present
SELECT assert_true(
  null_keys = 0,
  concat('transactions_raw: ', CAST(null_keys AS STRING), ' rows have a null member_number, txn_date or item'))
FROM (
  SELECT count_if(member_number IS NULL OR txn_date IS NULL OR item IS NULL) AS null_keys
  FROM transactions_raw
) checked;

-- COMMAND ----------

-- DBTITLE 1,Check: extracted rows reconcile with the load audit
-- Each loaded object's row count must equal the newest audit record for it, and every object
-- with rows must have an audit record.
SELECT assert_true(
  mismatched = 0,
  concat('transactions_raw does not reconcile with lakehouse_load_audit for dataset ', :dataset, ': ',
         CAST(mismatched AS STRING), ' object(s) differ, first: ', coalesce(first_difference, '')))
FROM (
  SELECT count(*) AS mismatched, min(difference) AS first_difference
  FROM (
    SELECT concat(coalesce(e.object_name, a.object_name), ': ',
                  CAST(coalesce(e.rows_extracted, 0) AS STRING), ' rows extracted, ',
                  coalesce(CAST(a.rows_loaded AS STRING), 'no audit record'), ' loaded') AS difference
    FROM (
      SELECT _source_object AS object_name, count(*) AS rows_extracted
      FROM transactions_raw
      GROUP BY _source_object
    ) e
    FULL OUTER JOIN (
      SELECT object_name, rows_loaded
      FROM (
        SELECT object_name, CAST(rows_loaded AS BIGINT) AS rows_loaded,
               row_number() OVER (PARTITION BY object_name ORDER BY loaded_at DESC) AS recency
        FROM load_audit
        WHERE dataset = :dataset
      ) audited
      WHERE recency = 1
    ) a ON e.object_name = a.object_name
    WHERE coalesce(e.rows_extracted, 0) <> coalesce(a.rows_loaded, -1)
  ) differences
) checked;

-- COMMAND ----------

-- DBTITLE 1,Clean: the rows of silver.transactions
-- Computed as a view and checked in the next cells; the table is written only once every check holds, so
-- that a bad row (a date in 9999, say) never becomes a table version.
CREATE OR REPLACE TEMPORARY VIEW transactions_clean AS
WITH source_lines AS (
  -- DISTINCT over the lineage too: only a source line loaded twice is dropped here.
  SELECT DISTINCT
    CAST(member_number AS BIGINT) AS member_number,
    CAST(txn_date AS DATE) AS txn_date,
    trim(regexp_replace(item, '[\r\n\t ]+$', '')) AS item,
    _source_object,
    CAST(_source_line AS BIGINT) AS _source_line
  FROM transactions_raw
),
lines AS (
  SELECT member_number, txn_date, item, CAST(count(*) AS INT) AS quantity
  FROM source_lines
  GROUP BY member_number, txn_date, item
),
baskets AS (
  SELECT
    member_number,
    txn_date,
    CAST(row_number() OVER (ORDER BY member_number, txn_date) AS BIGINT) AS basket_id,
    CAST(count(*) AS INT) AS basket_size
  FROM lines
  GROUP BY member_number, txn_date
)
SELECT b.basket_id, l.member_number, l.txn_date, l.item, l.quantity, b.basket_size
FROM lines l
JOIN baskets b ON l.member_number = b.member_number AND l.txn_date = b.txn_date;

-- COMMAND ----------

-- DBTITLE 1,Baskets: the rows of silver.baskets
-- basket_size counts distinct items; quantity counts the lines.
CREATE OR REPLACE TEMPORARY VIEW baskets_clean AS
SELECT
  basket_id,
  member_number,
  txn_date,
  CAST(count(*) AS INT) AS basket_size,
  CAST(sum(quantity) AS INT) AS quantity
FROM transactions_clean
GROUP BY basket_id, member_number, txn_date;

-- COMMAND ----------

-- DBTITLE 1,Check: silver keys, dates and counts, before anything is written
SELECT assert_true(
  bad_rows = 0,
  concat('silver.transactions: ', CAST(bad_rows AS STRING), ' rows have a null key, an empty item or a non-positive quantity'))
FROM (
  SELECT count_if(basket_id IS NULL OR member_number IS NULL OR txn_date IS NULL OR item IS NULL OR item = ''
                  OR quantity IS NULL OR quantity < 1) AS bad_rows
  FROM transactions_clean
) checked;

-- Dates must be plausible: not in the future, not before 1990.
SELECT assert_true(
  out_of_range = 0,
  concat('silver.transactions: ', CAST(out_of_range AS STRING), ' rows have a date outside 1990-01-01 .. today (found ',
         CAST(first_date AS STRING), ' .. ', CAST(last_date AS STRING), ')'))
FROM (
  SELECT count_if(txn_date < DATE '1990-01-01' OR txn_date > current_date()) AS out_of_range,
         min(txn_date) AS first_date,
         max(txn_date) AS last_date
  FROM transactions_clean
) checked;

-- Every distinct source line is in silver exactly once, as part of a quantity.
SELECT assert_true(
  silver_lines = source_lines,
  concat('silver.transactions holds ', CAST(silver_lines AS STRING), ' source lines, transactions_raw has ',
         CAST(source_lines AS STRING)))
FROM (SELECT CAST(sum(quantity) AS BIGINT) AS silver_lines FROM transactions_clean) s
CROSS JOIN (
  SELECT count(*) AS source_lines FROM (SELECT DISTINCT _source_object, _source_line FROM transactions_raw) d
) r;

SELECT assert_true(
  baskets = distinct_ids AND baskets = distinct_visits,
  concat('silver.baskets: ', CAST(baskets AS STRING), ' baskets, ', CAST(distinct_ids AS STRING), ' ids, ',
         CAST(distinct_visits AS STRING), ' member-days'))
FROM (
  SELECT count(*) AS baskets, count(DISTINCT basket_id) AS distinct_ids
  FROM baskets_clean
) b
CROSS JOIN (
  SELECT count(*) AS distinct_visits
  FROM (SELECT DISTINCT member_number, txn_date FROM transactions_clean) v
) t;

-- COMMAND ----------

-- DBTITLE 1,Write: silver.transactions and silver.baskets
CREATE OR REPLACE TABLE silver.transactions USING DELTA AS
SELECT basket_id, member_number, txn_date, item, quantity, basket_size FROM transactions_clean;

CREATE OR REPLACE TABLE silver.baskets USING DELTA AS
SELECT basket_id, member_number, txn_date, basket_size, quantity FROM baskets_clean;
