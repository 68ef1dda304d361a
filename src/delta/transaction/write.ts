// Writing the rows of a DuckDB query as one new version: create (or replace) a table, append to it, or
// overwrite its rows. The schema comes from create-table.ts or schema-evolution.ts, the checks from
// validation.ts; the commit re-bases only a blind append, or an append that lost the race to create the table.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Action, RemoveFile } from '../actions.ts';
import type { WrittenFiles } from '../files.ts';
import { writeDataFiles } from '../files.ts';
import type { StructField } from '../schema.ts';
import { deltaTypeFor, quoteIdent } from '../schema.ts';
import type { Snapshot } from '../snapshot.ts';
import type { DeltaStorage } from '../storage.ts';
import type { DeltaTable } from '../table.ts';
import { openDeltaTable } from '../table.ts';
import { dataColumns, describeQuery, trimQuery } from './columns.ts';
import type { QueryColumn } from './columns.ts';
import type { CommitRequest } from './commit.ts';
import { commitTransaction } from './commit.ts';
import type { SchemaPlan, TableDefinition } from './create-table.ts';
import { NEW_TABLE_PROTOCOL, newTablePlan } from './create-table.ts';
import type { CommonWriteOptions, FinishedCommit, WriteResult } from './operation.ts';
import { finishCommit, removeOf } from './operation.ts';
import type { SchemaEvolution } from './schema-evolution.ts';
import { evolvedTablePlan, fitsTable } from './schema-evolution.ts';
import {
  checkInvariants,
  checkNames,
  checkNotAppendOnly,
  checkReadVersion,
  checkWritable,
} from './validation.ts';

export type WriteMode = 'create' | 'append' | 'overwrite' | 'errorIfExists';

export interface WriteOptions extends CommonWriteOptions, TableDefinition {
  /**
   * create: create the table, or replace an existing one (new schema and partitioning; CREATE OR REPLACE TABLE).
   * append: add rows (creates the table when absent). overwrite: replace the rows, keeping the table.
   * errorIfExists (default): create the table, failing if it exists.
   */
  mode?: WriteMode;
  /** addColumns: columns the table lacks are added (nullable). none (default): they are an error. */
  schemaEvolution?: SchemaEvolution;
  /** Match query columns to table columns by position (SQL INSERT INTO) instead of by name. */
  byPosition?: boolean;
  /** commitInfo.operation and operationParameters, e.g. 'CREATE OR REPLACE TABLE AS SELECT'. */
  operation?: string;
  operationParameters?: Record<string, unknown>;
  /** Idempotent write: skipped when the table already holds this application's transaction at ≥ version. */
  txn?: { appId: string; version: number };
  /**
   * The table version the query read (when it reads this same table, e.g. through registerDeltaView). The
   * write then fails with a ConcurrentModificationError if another version was committed since, instead of
   * overwriting rows it never saw.
   */
  readVersion?: number;
}

const MODE_NAMES: Record<WriteMode, string> = {
  create: 'Overwrite',
  append: 'Append',
  overwrite: 'Overwrite',
  errorIfExists: 'ErrorIfExists',
};

/** One write being prepared: the table as it was read, and what the write will make of it. */
interface PlannedWrite {
  mode: WriteMode;
  existing: Snapshot | undefined;
  plan: SchemaPlan;
  written: WrittenFiles;
  removes: RemoveFile[];
}

/**
 * Writes the rows of the DuckDB query `query` (evaluated on `conn`) to the Delta table at `location` as one
 * new version. Returns the version, the number of data files and rows written.
 */
export async function writeDelta(
  conn: DuckDBConnection,
  location: string | DeltaStorage,
  query: string,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const mode = options.mode ?? 'errorIfExists';
  if (!Object.hasOwn(MODE_NAMES, mode)) {
    throw new Error(`writeDelta: mode must be create, append, overwrite or errorIfExists, found "${mode}"`);
  }
  const table = openDeltaTable(location, { conn });
  const where = table.location;
  const source = trimQuery(query);
  const existing = (await table.exists()) ? await table.snapshot() : undefined;
  if (existing) checkWritable(existing);
  checkReadVersion(existing, options.readVersion, where);
  if (existing && mode === 'errorIfExists') {
    throw new Error(
      `${where} already exists (version ${existing.version}); use mode append, overwrite or create`,
    );
  }
  if (
    existing &&
    options.txn &&
    (existing.txns.get(options.txn.appId)?.version ?? -1) >= options.txn.version
  ) {
    return { version: existing.version, files: 0, rows: 0, committed: false };
  }
  // The table the rows go into, keeping its schema; undefined when the write creates or replaces the table.
  const kept = existing && mode !== 'create' ? existing : undefined;
  const columns = await queryColumns(conn, source, kept, options.byPosition ?? false, where);
  const incoming: StructField[] = columns.map((c) => ({
    name: c.name,
    type: deltaTypeFor(c.duckType, c.name),
    nullable: true,
    metadata: {},
  }));
  const plan = kept
    ? evolvedTablePlan(kept, incoming, options, where)
    : newTablePlan(incoming, options, where, existing?.metadata.id);
  const written = await writeRows(conn, table, { mode, existing, plan }, source, columns);
  const removes = existing && mode !== 'append' ? existing.files.map((f) => removeOf(f, Date.now())) : [];
  const { version, checkpoint } = await commitWrite(
    conn,
    table,
    { mode, existing, plan, written, removes },
    options,
  );
  return { version, files: written.adds.length, rows: written.rows, committed: true, checkpoint };
}

/** The query's columns, named as the table columns they fill (by position, into `existing`, when asked). */
async function queryColumns(
  conn: DuckDBConnection,
  source: string,
  existing: Snapshot | undefined,
  byPosition: boolean,
  where: string,
): Promise<QueryColumn[]> {
  let columns = await describeQuery(conn, source);
  if (byPosition && existing) {
    const names = existing.schema.fields.map((f) => f.name);
    if (columns.length > names.length) {
      throw new Error(
        `${where}: the query gives ${columns.length} columns but the table has ${names.length} (${names.join(', ')})`,
      );
    }
    columns = columns.map((c, i) => ({ ...c, name: names[i]! }));
  }
  checkNames(columns, where);
  return columns;
}

/** Checks the rows against the table (append-only, NOT NULL, invariants), then writes them as data files. */
async function writeRows(
  conn: DuckDBConnection,
  table: DeltaTable,
  { mode, existing, plan }: Pick<PlannedWrite, 'mode' | 'existing' | 'plan'>,
  source: string,
  columns: QueryColumn[],
): Promise<WrittenFiles> {
  const { data, partitions } = dataColumns(plan.schema, plan.partitionColumns, columns);
  if (existing && mode !== 'append' && mode !== 'create') checkNotAppendOnly(existing, mode);
  const rows = [...data, ...partitions].map((c) => `${c.expr} AS ${quoteIdent(c.field.name)}`).join(', ');
  await checkInvariants(
    conn,
    `SELECT ${rows} FROM (${source}) AS __delta_source`,
    plan.schema,
    table.location,
  );
  return writeDataFiles(conn, table.storage, source, data, partitions);
}

/**
 * Commits the write. Two appends that both found no table race to create it: the loser appends to the table
 * the winner created, if the files it wrote fit that table's schema and partitioning exactly.
 */
async function commitWrite(
  conn: DuckDBConnection,
  table: DeltaTable,
  write: PlannedWrite,
  options: WriteOptions,
): Promise<FinishedCommit> {
  const commitOptions = { maxRetries: options.maxRetries };
  // An append whose query read this table is not blind: re-basing it could miss rows committed meanwhile.
  const blindAppend =
    write.mode === 'append' &&
    write.existing !== undefined &&
    write.plan.metadata === undefined &&
    options.readVersion === undefined;
  const first = writeRequest(write, options, write.existing?.version ?? -1, blindAppend);
  const outcome = await commitTransaction(table.storage, first, commitOptions);
  if (outcome.status === 'conflicted' && write.mode === 'append' && !write.existing) {
    const winner = await table.snapshot();
    if (fitsTable(winner, write.plan)) {
      const second = writeRequest(
        { ...write, plan: { ...write.plan, metadata: undefined } },
        options,
        winner.version,
        true,
      );
      return finishCommit(
        conn,
        table,
        second,
        await commitTransaction(table.storage, second, commitOptions),
        options,
      );
    }
  }
  return finishCommit(conn, table, first, outcome, options);
}

function writeRequest(
  write: PlannedWrite,
  options: WriteOptions,
  readVersion: number,
  blind: boolean,
): CommitRequest {
  const { mode, existing, plan, written, removes } = write;
  const txnActions: Action[] = options.txn ? [{ txn: { ...options.txn, lastUpdated: Date.now() } }] : [];
  const createName = existing ? 'CREATE OR REPLACE TABLE AS SELECT' : 'CREATE TABLE AS SELECT';
  return {
    readVersion,
    actions: [
      ...(readVersion < 0 ? [{ protocol: NEW_TABLE_PROTOCOL }] : []),
      ...(plan.metadata ? [{ metaData: plan.metadata }] : []),
      ...txnActions,
      ...removes.map((remove) => ({ remove })),
      ...written.adds.map((add) => ({ add })),
    ],
    operation: options.operation ?? (mode === 'create' ? createName : 'WRITE'),
    operationParameters: options.operationParameters ?? {
      mode: MODE_NAMES[mode],
      partitionBy: JSON.stringify(plan.partitionColumns),
      ...(options.description !== undefined ? { description: options.description } : {}),
    },
    operationMetrics: {
      numFiles: written.adds.length,
      numOutputRows: written.rows,
      numOutputBytes: written.bytes,
      ...(removes.length > 0 ? { numRemovedFiles: removes.length } : {}),
    },
    isBlindAppend: blind,
    userMetadata: options.userMetadata,
  };
}
