// Must-show (issue 15) on Apache Spark with Delta Lake: the same notebooks, the same increments (a new month, a
// late line, a replaced object), the store in PostgreSQL (Spark cannot read PGlite); after each, every table equals
// a full refresh from scratch (built on DuckDB from the same store, which is quicker; the engines agree:
// engines-*.test.ts), and at the end a full refresh on Spark equals what the increments left
// (../stages/incremental-suite.ts). Notebooks 01-03 only: 04's rules are recomputed whole from silver, on every run,
// and take most of a Spark run on this machine.
import { beforeAll } from 'vitest';
import { runLocalTransform } from '../../src/pipeline/transform-local.ts';
import { runSparkTransform } from '../../src/pipeline/transform-spark.ts';
import { allNotebooks } from '../notebooks/helpers.ts';
import { needsPostgres, needsSpark } from '../helpers/services.ts';
import { POSTGRES_URL, postgresEngine } from '../helpers/sql-engines.ts';
import { defineIncrementalSuite } from '../stages/incremental-suite.ts';
import { KEPT_TABLES } from './compare.ts';

const ok = (await needsPostgres()) && (await needsSpark());
const SCHEMA = 'lh_spark_incremental';
const SPARK = `spark: { master: 'local[2]', conf: { spark.driver.memory: 1g, spark.sql.shuffle.partitions: '2', spark.databricks.delta.snapshotPartitions: '2' } }`;

beforeAll(async () => {
  if (ok) await postgresEngine.reset(SCHEMA);
});

defineIncrementalSuite(
  {
    name: 'Spark',
    edit: (yaml) =>
      yaml.replace(
        'sql: { engine: pglite, path: .lakehouse/pglite }',
        `sql: { engine: postgres, connection: '${POSTGRES_URL}', schema: ${SCHEMA} }\n    ${SPARK}`,
      ),
    transform: runSparkTransform,
    scratch: runLocalTransform,
    notebooks: allNotebooks.slice(0, 3),
    tables: KEPT_TABLES.filter((t) => !['gold.frequent_itemsets', 'gold.association_rules'].includes(t)),
  },
  ok,
);
