// Tables Spark writes for our reader: the operations our writer has, the ones only Spark has (UPDATE, OPTIMIZE,
// RESTORE, multi-part checkpoints) and the table features Delta 4 offers. Each table's statements end with Spark
// reading every version (rows as JSON, and the schema), for the test to compare with our reader.
import { expect } from 'vitest';
import path from 'node:path';
import { openDeltaTable } from '../../src/delta/index.ts';
import type { SparkStatement } from '../helpers/spark.ts';
import { deltaPath, sparkJsonRows } from './spark-rows.ts';

export interface SparkTable {
  name: string;
  /** Spark SQL; `T` stands for the table (delta.`<path>`). */
  statements: string[];
  /** The version the statements end at. */
  latest: number;
  /** Versions whose files are gone (vacuumed): neither engine can read them. */
  unreadable?: number[];
  /** Versions our reader refuses (with a clear error that `check` asserts). */
  refused?: number[];
  check?: (location: string) => Promise<void>;
}

// Every type Spark stores, a few nulls, microsecond timestamps.
const rich = (from: number, to: number) => `SELECT CAST(id AS INT) AS id, id * 1000000007 AS big,
  concat('name ', id) AS name, id / 3D AS ratio, CAST(id * 1.25 AS DECIMAL(10,2)) AS price,
  date_add(DATE'2024-01-01', CAST(id AS INT)) AS day, timestamp_micros(1704103200123456 + id * 3601000000) AS at,
  id % 2 = 0 AS even, CAST(id AS SMALLINT) AS small, CAST(id % 100 AS TINYINT) AS tiny, CAST(id / 7 AS FLOAT) AS f,
  CAST(concat('x', id) AS BINARY) AS bytes, CASE WHEN id % 5 = 4 THEN NULL ELSE concat('n', id) END AS maybe,
  array(id, id + 1) AS arr, named_struct('a', id, 'b', concat('x', id)) AS st, map('k', id) AS m
FROM range(${from}, ${to})`;
const simple = (from: number, to: number, prefix = 'a') =>
  `SELECT id, concat('${prefix}-', id) AS name FROM range(${from}, ${to})`;
const partitionedRows = (from: number, to: number) => `SELECT CAST(id AS INT) AS id,
  CASE id % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'a b/c=d%e' WHEN 3 THEN 'ü:ß#?' ELSE 'plain' END AS cat,
  date_add(DATE'2024-02-28', CAST(id % 3 AS INT)) AS day, CAST(id % 4 AS INT) AS bucket, concat('v', id) AS v
FROM range(${from}, ${to})`;

async function refuses(location: string, version: number, message: RegExp): Promise<void> {
  const read = async () => (await openDeltaTable(location).snapshot({ version })).scan();
  await expect(read()).rejects.toThrow(message);
}

export const SPARK_TABLES: SparkTable[] = [
  { name: 'create', statements: [`CREATE TABLE T USING DELTA AS ${rich(0, 20)}`], latest: 0 },
  {
    name: 'append',
    statements: [
      `CREATE TABLE T USING DELTA AS ${rich(0, 10)}`,
      `INSERT INTO T ${rich(10, 20)}`,
      `INSERT INTO T ${rich(20, 25)}`,
    ],
    latest: 2,
  },
  {
    name: 'overwrite',
    statements: [
      `CREATE TABLE T USING DELTA AS ${simple(0, 10)}`,
      `INSERT OVERWRITE T ${simple(5, 12, 'b')}`,
    ],
    latest: 1,
  },
  {
    name: 'replace',
    statements: [
      `CREATE TABLE T USING DELTA AS ${simple(0, 10)}`,
      `CREATE OR REPLACE TABLE T USING DELTA PARTITIONED BY (part) AS
         SELECT CAST(id AS INT) AS k, id % 3 AS part, concat('r', id) AS v FROM range(9)`,
    ],
    latest: 1,
  },
  {
    name: 'delete',
    statements: [
      `CREATE TABLE T USING DELTA AS ${rich(0, 10)}`,
      `INSERT INTO T ${rich(10, 20)}`,
      'DELETE FROM T WHERE id % 3 = 0',
      'DELETE FROM T WHERE id >= 10',
    ],
    latest: 3,
  },
  {
    name: 'update',
    statements: [
      `CREATE TABLE T USING DELTA AS ${rich(0, 10)}`,
      "UPDATE T SET name = concat(name, ' (updated)'), price = price * 2 WHERE id % 2 = 1",
    ],
    latest: 1,
  },
  {
    name: 'merge',
    statements: [
      `CREATE TABLE T USING DELTA AS ${simple(0, 10)}`,
      `MERGE INTO T t USING (SELECT id, concat('m-', id) AS name, id % 4 = 0 AS gone FROM range(5, 15)) s
         ON t.id = s.id
         WHEN MATCHED AND s.gone THEN DELETE
         WHEN MATCHED THEN UPDATE SET name = s.name
         WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)`,
      `MERGE INTO T t USING (${simple(14, 18, 'n')}) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *`,
    ],
    latest: 2,
  },
  {
    name: 'partitioned',
    statements: [
      `CREATE TABLE T USING DELTA PARTITIONED BY (cat, day, bucket) AS ${partitionedRows(0, 24)}`,
      `INSERT INTO T ${partitionedRows(24, 36)}`,
      "DELETE FROM T WHERE cat = 'plain' AND bucket = 1",
    ],
    latest: 2,
  },
  {
    name: 'partitioned-typed',
    statements: [
      `CREATE TABLE T USING DELTA PARTITIONED BY (ts, flag, amount, big) AS
         SELECT CAST(id AS INT) AS id, timestamp_micros(1709296245500000 + (id % 3) * 86400000000) AS ts,
           id % 2 = 0 AS flag, CAST((id % 3) * 1.5 AS DECIMAL(6,2)) AS amount, id % 3 AS big, concat('w', id) AS v
         FROM range(12)`,
    ],
    latest: 0,
  },
  {
    name: 'evolution',
    statements: [
      `CREATE TABLE T USING DELTA AS ${simple(0, 5)}`,
      'ALTER TABLE T ADD COLUMNS (score DOUBLE, added DATE)',
      `INSERT INTO T SELECT id, concat('e-', id), id * 0.5, DATE'2024-01-01' FROM range(5, 10)`,
      `INSERT INTO T (id, name) ${simple(10, 12, 'late')}`,
    ],
    latest: 3,
  },
  {
    name: 'checkpoint',
    // Checkpoints every 2 versions, in parts of at most 3 actions (multi-part checkpoints).
    statements: [
      'SET spark.databricks.delta.checkpoint.partSize = 3',
      `CREATE TABLE T USING DELTA TBLPROPERTIES ('delta.checkpointInterval' = '2') AS ${rich(0, 5)}`,
      ...[1, 2, 3, 4].map((v) => `INSERT INTO T ${rich(v * 5, v * 5 + 5)}`),
      'DELETE FROM T WHERE id % 4 = 1',
      'RESET spark.databricks.delta.checkpoint.partSize',
    ],
    latest: 5,
    check: async (location) => {
      const { listLog } = await import('../../src/delta/log.ts');
      const checkpoints = (await listLog(openDeltaTable(location).storage)).checkpoints;
      expect(checkpoints.some((c) => c.parts.length > 1)).toBe(true);
    },
  },
  {
    name: 'optimize',
    statements: [
      `CREATE TABLE T USING DELTA AS ${simple(0, 4)}`,
      `INSERT INTO T ${simple(4, 8)}`,
      `INSERT INTO T ${simple(8, 12)}`,
      'OPTIMIZE T ZORDER BY (id)',
    ],
    latest: 3,
  },
  {
    name: 'restore',
    statements: [
      `CREATE TABLE T USING DELTA AS ${simple(0, 5)}`,
      `INSERT INTO T ${simple(5, 10)}`,
      'RESTORE TABLE T TO VERSION AS OF 0',
    ],
    latest: 2,
  },
  {
    name: 'vacuum',
    statements: [
      'SET spark.databricks.delta.retentionDurationCheck.enabled = false',
      `CREATE TABLE T USING DELTA AS ${simple(0, 10)}`,
      `INSERT OVERWRITE T ${simple(0, 4, 'kept')}`,
      'VACUUM T RETAIN 0 HOURS',
      'RESET spark.databricks.delta.retentionDurationCheck.enabled',
    ],
    latest: 3,
    unreadable: [0],
  },
  {
    name: 'features',
    // Writer-only features: CHECK constraints, change data feed, in-commit timestamps. (Generated columns: Spark 4.0.1
    // refuses them in SQL DDL on Delta 4.0.1 tables, "does not support generated columns".)
    statements: [
      `CREATE TABLE T (id BIGINT, name STRING) USING DELTA
         TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true', 'delta.enableInCommitTimestamps' = 'true')`,
      'ALTER TABLE T ADD CONSTRAINT positive CHECK (id >= 0)',
      `INSERT INTO T (id, name) ${simple(0, 6)}`,
      "UPDATE T SET name = 'changed' WHERE id = 2",
    ],
    latest: 3,
  },
  {
    name: 'timestamp-ntz',
    statements: [
      `CREATE TABLE T USING DELTA AS SELECT id, CAST(timestamp_micros(1704103200123456 + id * 1000) AS TIMESTAMP_NTZ) AS local_at
         FROM range(5)`,
    ],
    latest: 0,
  },
  {
    name: 'deletion-vectors',
    statements: [
      `CREATE TABLE T USING DELTA TBLPROPERTIES ('delta.enableDeletionVectors' = 'true') AS ${simple(0, 20)}`,
      'DELETE FROM T WHERE id % 3 = 0',
    ],
    latest: 1,
    refused: [1],
    check: (location) => refuses(location, 1, /deletion vector/),
  },
  {
    name: 'column-mapping',
    statements: [
      `CREATE TABLE T USING DELTA TBLPROPERTIES ('delta.columnMapping.mode' = 'name') AS ${simple(0, 5)}`,
      'ALTER TABLE T RENAME COLUMN name TO label',
    ],
    latest: 1,
    refused: [0, 1],
    check: (location) => refuses(location, 1, /reader version 2/),
  },
];

/** Spark's statements: every table written, then read at every version it can read. */
export function sparkWrites(root: string): SparkStatement[] {
  return SPARK_TABLES.flatMap((table) => {
    const location = path.join(root, table.name);
    const from = deltaPath(location);
    const write = table.statements.map((sql, i) => ({
      id: `spark/${table.name}/write/${i}`,
      sql: sql.replace(/\bT\b/g, from),
      maxRows: 0,
    }));
    const versions = Array.from({ length: table.latest + 1 }, (_, v) => v).filter(
      (v) => !(table.unreadable ?? []).includes(v),
    );
    const rows = versions.map((v) => sparkJsonRows(`v${v}`, `${from} VERSION AS OF ${v}`));
    return [
      ...write,
      { id: `spark/${table.name}/rows`, sql: rows.join('\nUNION ALL\n') },
      ...versions.map((v) => ({
        id: `spark/${table.name}/schema/${v}`,
        sql: `SELECT * FROM ${from} VERSION AS OF ${v} LIMIT 0`,
      })),
    ];
  });
}
