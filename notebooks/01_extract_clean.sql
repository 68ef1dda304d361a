-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 1. Extract and clean the transactions
-- MAGIC
-- MAGIC Reads the transactions that the load stage put into the SQL store, checks them against the
-- MAGIC load audit, and keeps the cleaned silver tables up to date:
-- MAGIC
-- MAGIC - `silver.transaction_lines`: every distinct source line (member, date, trimmed item) with its
-- MAGIC   lineage (`_source_object`, `_source_line`). A source line loaded twice counts once.
-- MAGIC - `silver.transactions`: one row per basket and item. Item names are trimmed (the source
-- MAGIC   carries trailing spaces and carriage returns), dates are dates, and identical lines (same
-- MAGIC   member, day and item) are one row whose `quantity` counts them, so no sale is lost.
-- MAGIC - `silver.baskets`: a basket is one member on one day; `basket_id` is a function of the two
-- MAGIC   (`member_number * 100000` + days since 1970-01-01), so it stays the same from run to run.
-- MAGIC - `silver.loaded_objects`: the audit generation of every object the silver tables hold.
-- MAGIC
-- MAGIC **Incremental.** A run reads only the rows of the objects whose newest audit generation differs
-- MAGIC from the one `silver.loaded_objects` holds (new, replaced or withdrawn objects, and objects the
-- MAGIC audit no longer has), replaces their lines, and recomputes the baskets those lines belong to,
-- MAGIC before and after (`silver.changed_baskets`, which notebooks 2 and 3 read). With `full_refresh`
-- MAGIC every object counts as changed and every row is recomputed.
-- MAGIC
-- MAGIC Parameters: `dataset`, the dataset name the load stage records in its audit table;
-- MAGIC `full_refresh` (`true` / `false`).
-- MAGIC
-- MAGIC On Databricks the extraction reads SQL Server over JDBC with the credentials kept in the
-- MAGIC `lakehouse` secret scope; the local runner reads the same tables from the configured SQL store.

-- COMMAND ----------

CREATE SCHEMA IF NOT EXISTS silver;

-- The state an increment starts from, empty before the first run. No data row is written before the checks.
CREATE TABLE IF NOT EXISTS silver.loaded_objects USING DELTA AS
SELECT CAST(NULL AS STRING) AS object_name, CAST(NULL AS STRING) AS generation, CAST(NULL AS BIGINT) AS rows_loaded
WHERE false;

CREATE TABLE IF NOT EXISTS silver.transaction_lines USING DELTA AS
SELECT CAST(NULL AS BIGINT) AS member_number, CAST(NULL AS DATE) AS txn_date, CAST(NULL AS STRING) AS item,
       CAST(NULL AS STRING) AS _source_object, CAST(NULL AS BIGINT) AS _source_line
WHERE false;

-- The baskets a run recomputes. A run that fails after writing it leaves it behind, and the next run
-- recomputes those baskets too; notebook 3 empties it once every table holds the change.
CREATE TABLE IF NOT EXISTS silver.changed_baskets USING DELTA AS
SELECT CAST(NULL AS BIGINT) AS member_number, CAST(NULL AS DATE) AS txn_date
WHERE false;

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

-- The objects this run reads: those whose newest audit generation is not the one silver holds (new,
-- replaced, withdrawn), those silver holds that the audit no longer has, and every object on a full refresh.
-- Object names only: a table, because a view may not use parameters.
CREATE OR REPLACE TABLE silver.changed_objects USING DELTA AS
-- The audit's columns take new names inside: Spark 4 drops an alias to the same name over a no-op cast (a MariaDB
-- audit's generation is a string already) and then fails its plan check on the outer join's two `generation`s.
SELECT coalesce(a.object_name, h.object_name) AS object_name, a.newest_generation AS generation,
       a.newest_rows AS rows_loaded
FROM (
  SELECT object_name, newest_generation, newest_rows
  FROM (
    SELECT object_name, CAST(generation AS STRING) AS newest_generation, CAST(rows_loaded AS BIGINT) AS newest_rows,
           row_number() OVER (PARTITION BY object_name ORDER BY loaded_at DESC) AS recency
    FROM load_audit
    WHERE dataset = :dataset
  ) audited
  WHERE recency = 1
) a
FULL OUTER JOIN silver.loaded_objects h ON a.object_name = h.object_name
WHERE CAST(:full_refresh AS BOOLEAN) OR a.newest_generation IS NULL OR h.generation IS NULL
   OR a.newest_generation <> h.generation;

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


-- DBTITLE 1,Clean: the lines of the changed objects
-- Computed once (CACHE TABLE) for the checks and the writes after them; nothing is written until every check
-- holds, so that a bad row (a date in 9999, say) never becomes a table version. DISTINCT over the lineage too:
-- only a source line loaded twice is dropped here.
CACHE TABLE changed_lines AS
SELECT DISTINCT
  CAST(member_number AS BIGINT) AS member_number,
  CAST(txn_date AS DATE) AS txn_date,
  trim(regexp_replace(item, '[\r\n\t ]+$', '')) AS item,
  _source_object,
  CAST(_source_line AS BIGINT) AS _source_line
FROM transactions_raw
WHERE _source_object IN (SELECT object_name FROM silver.changed_objects);

-- COMMAND ----------

-- DBTITLE 1,Check: the changed lines' keys, dates and lineage, before anything is written
-- coalesce: over no rows (an increment with nothing new) DuckDB's count_if is NULL, Spark's 0.
SELECT assert_true(
  bad_rows = 0,
  concat('silver.transactions: ', CAST(bad_rows AS STRING), ' rows have a null key or an empty item'))
FROM (
  SELECT coalesce(count_if(member_number IS NULL OR txn_date IS NULL OR item IS NULL OR item = ''), 0) AS bad_rows
  FROM changed_lines
) checked;

-- Dates must be plausible: not in the future, not before 1990.
SELECT assert_true(
  out_of_range = 0,
  concat('silver.transactions: ', CAST(out_of_range AS STRING), ' rows have a date outside 1990-01-01 .. today (found ',
         CAST(first_date AS STRING), ' .. ', CAST(last_date AS STRING), ')'))
FROM (
  SELECT coalesce(count_if(txn_date < DATE '1990-01-01' OR txn_date > current_date()), 0) AS out_of_range,
         min(txn_date) AS first_date,
         max(txn_date) AS last_date
  FROM changed_lines
) checked;

-- Every distinct source line of the changed objects is one line, counted once.
SELECT assert_true(
  lines = source_lines,
  concat('silver.transaction_lines would hold ', CAST(lines AS STRING), ' lines of the changed objects, transactions_raw has ',
         CAST(source_lines AS STRING)))
FROM (SELECT count(*) AS lines FROM changed_lines) s
CROSS JOIN (
  SELECT count(*) AS source_lines
  FROM (
    SELECT DISTINCT _source_object, _source_line
    FROM transactions_raw
    WHERE _source_object IN (SELECT object_name FROM silver.changed_objects)
  ) d
) r;

-- COMMAND ----------

-- DBTITLE 1,Write: silver.transaction_lines and silver.loaded_objects
-- The baskets to recompute: those of the changed objects' lines before and after, and any a failed run left.
-- Written before the lines change, while their old lines are still there.
CREATE OR REPLACE TABLE silver.changed_baskets USING DELTA AS
SELECT DISTINCT member_number, txn_date
FROM (
  SELECT member_number, txn_date FROM silver.changed_baskets
  UNION ALL
  SELECT member_number, txn_date FROM silver.transaction_lines
  WHERE _source_object IN (SELECT object_name FROM silver.changed_objects)
  UNION ALL
  SELECT member_number, txn_date FROM changed_lines
) affected;

-- A changed object's lines replace its old ones; the old lines that are not among them go.
MERGE INTO silver.transaction_lines t
USING (
  SELECT member_number, txn_date, item, _source_object, _source_line, false AS _gone FROM changed_lines
  UNION ALL
  SELECT o.member_number, o.txn_date, o.item, o._source_object, o._source_line, true AS _gone
  FROM silver.transaction_lines o
  WHERE (CAST(:full_refresh AS BOOLEAN) OR o._source_object IN (SELECT object_name FROM silver.changed_objects))
    AND NOT EXISTS (SELECT 1 FROM changed_lines n
                    WHERE n._source_object = o._source_object AND n._source_line = o._source_line)
) s
ON t._source_object = s._source_object AND t._source_line = s._source_line
WHEN MATCHED AND s._gone THEN DELETE
WHEN MATCHED THEN UPDATE SET member_number = s.member_number, txn_date = s.txn_date, item = s.item
WHEN NOT MATCHED THEN INSERT (member_number, txn_date, item, _source_object, _source_line)
  VALUES (s.member_number, s.txn_date, s.item, s._source_object, s._source_line);

-- Objects the audit no longer has leave the state; the others hold their newest generation.
MERGE INTO silver.loaded_objects t
USING silver.changed_objects s
ON t.object_name = s.object_name
WHEN MATCHED AND s.generation IS NULL THEN DELETE
WHEN MATCHED THEN UPDATE SET generation = s.generation, rows_loaded = s.rows_loaded
WHEN NOT MATCHED AND s.generation IS NOT NULL THEN INSERT (object_name, generation, rows_loaded)
  VALUES (s.object_name, s.generation, s.rows_loaded);

-- COMMAND ----------

-- DBTITLE 1,Write: silver.transactions and silver.baskets, for the changed baskets
CREATE OR REPLACE TEMPORARY VIEW transactions_changed AS
WITH lines AS (
  SELECT l.member_number, l.txn_date, l.item, CAST(count(*) AS INT) AS quantity
  FROM silver.transaction_lines l
  JOIN silver.changed_baskets c ON l.member_number = c.member_number AND l.txn_date = c.txn_date
  GROUP BY l.member_number, l.txn_date, l.item
)
SELECT
  CAST(member_number * 100000 + unix_date(txn_date) AS BIGINT) AS basket_id,
  member_number,
  txn_date,
  item,
  quantity,
  CAST(count(*) OVER (PARTITION BY member_number, txn_date) AS INT) AS basket_size
FROM lines;

CREATE TABLE IF NOT EXISTS silver.transactions USING DELTA AS
SELECT basket_id, member_number, txn_date, item, quantity, basket_size FROM transactions_changed WHERE false;

CREATE TABLE IF NOT EXISTS silver.baskets USING DELTA AS
SELECT basket_id, member_number, txn_date, basket_size, CAST(quantity AS INT) AS quantity
FROM transactions_changed WHERE false;

-- The rows of the changed baskets replace their old rows; an old row with no new one goes (and so does a
-- basket left with no lines). On a full refresh every old row without a new one goes.
MERGE INTO silver.transactions t
USING (
  SELECT basket_id, member_number, txn_date, item, quantity, basket_size, false AS _gone FROM transactions_changed
  UNION ALL
  SELECT o.basket_id, o.member_number, o.txn_date, o.item, o.quantity, o.basket_size, true AS _gone
  FROM silver.transactions o
  WHERE (CAST(:full_refresh AS BOOLEAN)
         OR EXISTS (SELECT 1 FROM silver.changed_baskets c
                    WHERE c.member_number = o.member_number AND c.txn_date = o.txn_date))
    AND NOT EXISTS (SELECT 1 FROM transactions_changed n
                    WHERE n.member_number = o.member_number AND n.txn_date = o.txn_date AND n.item = o.item)
) s
ON t.member_number = s.member_number AND t.txn_date = s.txn_date AND t.item = s.item
WHEN MATCHED AND s._gone THEN DELETE
WHEN MATCHED THEN UPDATE SET basket_id = s.basket_id, quantity = s.quantity, basket_size = s.basket_size
WHEN NOT MATCHED THEN INSERT (basket_id, member_number, txn_date, item, quantity, basket_size)
  VALUES (s.basket_id, s.member_number, s.txn_date, s.item, s.quantity, s.basket_size);

-- basket_size counts distinct items; quantity counts the lines.
MERGE INTO silver.baskets t
USING (
  SELECT basket_id, member_number, txn_date, basket_size, quantity, false AS _gone
  FROM (
    SELECT basket_id, member_number, txn_date, CAST(count(*) AS INT) AS basket_size, CAST(sum(quantity) AS INT) AS quantity
    FROM transactions_changed
    GROUP BY basket_id, member_number, txn_date
  ) b
  UNION ALL
  SELECT o.basket_id, o.member_number, o.txn_date, o.basket_size, o.quantity, true AS _gone
  FROM silver.baskets o
  WHERE (CAST(:full_refresh AS BOOLEAN)
         OR EXISTS (SELECT 1 FROM silver.changed_baskets c
                    WHERE c.member_number = o.member_number AND c.txn_date = o.txn_date))
    AND NOT EXISTS (SELECT 1 FROM transactions_changed n
                    WHERE n.member_number = o.member_number AND n.txn_date = o.txn_date)
) s
ON t.member_number = s.member_number AND t.txn_date = s.txn_date
WHEN MATCHED AND s._gone THEN DELETE
WHEN MATCHED THEN UPDATE SET basket_id = s.basket_id, basket_size = s.basket_size, quantity = s.quantity
WHEN NOT MATCHED THEN INSERT (basket_id, member_number, txn_date, basket_size, quantity)
  VALUES (s.basket_id, s.member_number, s.txn_date, s.basket_size, s.quantity);

-- COMMAND ----------

-- DBTITLE 1,Check: silver adds up to its lines
-- What the writes computed, over whole tables but with one aggregate each.
SELECT assert_true(
  silver_lines = lines,
  concat('silver.transactions holds ', CAST(silver_lines AS STRING), ' source lines, silver.transaction_lines has ',
         CAST(lines AS STRING)))
FROM (SELECT coalesce(CAST(sum(quantity) AS BIGINT), 0) AS silver_lines FROM silver.transactions) s
CROSS JOIN (SELECT count(*) AS lines FROM silver.transaction_lines) l;

SELECT assert_true(
  baskets = distinct_ids AND baskets = distinct_visits AND baskets = in_transactions,
  concat('silver.baskets: ', CAST(baskets AS STRING), ' baskets, ', CAST(distinct_ids AS STRING), ' ids, ',
         CAST(distinct_visits AS STRING), ' member-days, ', CAST(in_transactions AS STRING), ' in silver.transactions'))
FROM (SELECT count(*) AS baskets, count(DISTINCT basket_id) AS distinct_ids FROM silver.baskets) b
CROSS JOIN (SELECT count(DISTINCT basket_id) AS in_transactions FROM silver.transactions) t
CROSS JOIN (
  SELECT count(*) AS distinct_visits FROM (SELECT DISTINCT member_number, txn_date FROM silver.transactions) v
) v;
