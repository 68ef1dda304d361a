// DuckDB macros for the Spark SQL functions the notebooks use that DuckDB lacks or reads
// differently. They are TEMP macros: they live on one connection and shadow DuckDB's own
// functions of the same name only there.
//
// Functions the notebooks use that need no macro, because DuckDB has them with Spark's meaning:
// year, month, day, weekofyear (ISO weeks in both), trim, concat_ws, greatest, corr,
// dense_rank, row_number, current_date().
import type { DuckDBConnection } from '@duckdb/node-api';

/** DuckDB errors raised by a failed assert_true carry this marker before the check's message. */
export const ASSERTION_MARKER = 'assert_true failed: ';

/** What secret() says locally, where the SQL store's credentials come from lakehouse.yml and the environment. */
export const SECRET_MESSAGE =
  'is resolved only on Databricks; locally, the SQL store credentials come from lakehouse.yml and the environment';

export const SPARK_COMPAT_MACROS: readonly string[] = [
  // Spark: NULL when the condition holds, otherwise an error with the message (a NULL condition fails too).
  `CREATE OR REPLACE TEMP MACRO assert_true(condition, message) AS
     CASE WHEN condition THEN NULL ELSE error('${ASSERTION_MARKER}' || message) END,
   (condition) AS
     CASE WHEN condition THEN NULL ELSE error('${ASSERTION_MARKER}assert_true(...) is not true') END`,
  `CREATE OR REPLACE TEMP MACRO raise_error(message) AS error(message)`,
  // Never a credential locally: a query that needs one is a Databricks-only query.
  `CREATE OR REPLACE TEMP MACRO secret(scope, key) AS
     error('secret(' || scope || ', ' || key || ') ${SECRET_MESSAGE}')`,
  // Spark replaces every match; DuckDB's three-argument form replaces only the first.
  `CREATE OR REPLACE TEMP MACRO regexp_replace(subject, pattern, replacement) AS
     system.main.regexp_replace(subject, pattern, replacement, 'g')`,
  // Spark numbers the days 1 (Sunday) to 7 (Saturday); DuckDB 0 to 6.
  `CREATE OR REPLACE TEMP MACRO dayofweek(d) AS CAST(system.main.dayofweek(d) + 1 AS INTEGER)`,
  // Spark's days since 1970-01-01 (an INT), which DuckDB lacks.
  `CREATE OR REPLACE TEMP MACRO unix_date(d) AS CAST(date_diff('day', DATE '1970-01-01', d) AS INTEGER)`,
  // Array functions of 04_basket_rules.sql (transform and aggregate take lambdas: duckdb-lambdas.ts).
  `CREATE OR REPLACE TEMP MACRO size(a) AS CAST(len(a) AS INTEGER)`,
  `CREATE OR REPLACE TEMP MACRO explode(a) AS unnest(a)`,
  // Spark's sequence(a, b) includes b, as generate_series does; element_at counts from 1 in both.
  `CREATE OR REPLACE TEMP MACRO sequence(a, b) AS generate_series(a, b)`,
  `CREATE OR REPLACE TEMP MACRO element_at(a, i) AS list_extract(a, i)`,
  `CREATE OR REPLACE TEMP MACRO array_join(a, separator) AS array_to_string(a, separator)`,
];

export async function installSparkCompat(conn: DuckDBConnection): Promise<void> {
  for (const macro of SPARK_COMPAT_MACROS) await conn.run(macro);
}
