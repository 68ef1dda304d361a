// Write operations whose rows come from DuckDB SQL: create/append/overwrite, delete by predicate, and merge
// (copy-on-write: only files holding matched rows are rewritten).
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import type { Action, AddFile, Metadata, RemoveFile } from './actions.ts';
import { SUPPORTED_WRITER_VERSION } from './actions.ts';
import { checkpointInterval, writeCheckpoint } from './checkpoint.ts';
import type { DataColumn } from './files.ts';
import { writeDataFiles } from './files.ts';
import type { StructField, StructType } from './schema.ts';
import {
  canWiden,
  deltaTypeFor,
  duckdbType,
  quoteIdent,
  sameType,
  schemaString,
  typeName,
  writeExpression,
} from './schema.ts';
import type { Snapshot } from './snapshot.ts';
import type { DeltaStorage } from './storage.ts';
import type { DeltaTable } from './table.ts';
import { openDeltaTable } from './table.ts';
import type { CommitRequest } from './transaction.ts';
import { ConcurrentModificationError, commit } from './transaction.ts';
import { scanSql } from './view.ts';

export type WriteMode = 'create' | 'append' | 'overwrite' | 'errorIfExists';

export interface CommonWriteOptions {
  /** Free text stored as commitInfo.userMetadata. */
  userMetadata?: string;
  /** Checkpoint every N versions (default: the table's delta.checkpointInterval, else 10). */
  checkpointInterval?: number;
  /** Blind-append retries after losing a race (default 50). */
  maxRetries?: number;
}

export interface WriteOptions extends CommonWriteOptions {
  /**
   * create: create the table, or replace an existing one (new schema and partitioning; CREATE OR REPLACE TABLE).
   * append: add rows (creates the table when absent). overwrite: replace the rows, keeping the table.
   * errorIfExists (default): create the table, failing if it exists.
   */
  mode?: WriteMode;
  partitionBy?: string[];
  /** addColumns: columns the table lacks are added (nullable). none (default): they are an error. */
  schemaEvolution?: 'addColumns' | 'none';
  /** Match query columns to table columns by position (SQL INSERT INTO) instead of by name. */
  byPosition?: boolean;
  /** For a new table: metaData name, description and configuration (table properties). */
  name?: string;
  description?: string;
  configuration?: Record<string, string>;
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

export interface WriteResult {
  /** The version committed (or the current one, when nothing was committed). */
  version: number;
  /** Data files added. */
  files: number;
  rows: number;
  /** False when nothing was committed (idempotent skip, or no row matched). */
  committed: boolean;
  /** Set when a checkpoint was written after the commit, or why it failed (the commit stands). */
  checkpoint?: { version: number } | { error: string };
}

interface QueryColumn {
  /** The table column it fills. */
  name: string;
  duckType: string;
  /** Its name in the query (differs from `name` when matched by position). */
  sourceName: string;
}

function trimQuery(query: string): string {
  return query.trim().replace(/;\s*$/, '');
}

async function describeQuery(conn: DuckDBConnection, query: string): Promise<QueryColumn[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM (${query}) AS __delta_source`);
  return reader
    .getRows()
    .map(([name, type]) => ({ name: String(name), duckType: String(type), sourceName: String(name) }));
}

async function currentSnapshot(table: DeltaTable): Promise<Snapshot | undefined> {
  return (await table.exists()) ? table.snapshot() : undefined;
}

function checkWritable(snapshot: Snapshot): void {
  if (snapshot.protocol.minWriterVersion > SUPPORTED_WRITER_VERSION) {
    throw new Error(
      `${snapshot.storage.location}: the table needs Delta writer version ${snapshot.protocol.minWriterVersion}; ` +
        `this module writes version ${SUPPORTED_WRITER_VERSION} tables only`,
    );
  }
}

function checkNames(columns: { name: string }[], where: string): void {
  const seen = new Set<string>();
  for (const c of columns) {
    const key = c.name.toLowerCase();
    if (seen.has(key))
      throw new Error(`${where}: column "${c.name}" appears twice (Delta column names are case-insensitive)`);
    if (/[ ,;{}()\n\t=]/.test(c.name)) {
      throw new Error(
        `${where}: column "${c.name}" has a character (space ,;{}()=) that Delta tables without column mapping do not allow`,
      );
    }
    seen.add(key);
  }
}

/** The schema after writing `incoming` into `table`, or a clear error naming the incompatible column. */
export function evolveSchema(
  table: StructType,
  incoming: StructField[],
  evolution: 'addColumns' | 'none',
  where: string,
): { schema: StructType; added: string[] } {
  const fields = [...table.fields];
  const added: string[] = [];
  for (const column of incoming) {
    const existing = fields.find((f) => f.name.toLowerCase() === column.name.toLowerCase());
    if (existing) {
      if (!canWiden(column.type, existing.type)) {
        throw new Error(
          `${where}: column "${existing.name}" has type ${typeName(existing.type)} in the table, but the query gives ` +
            `${typeName(column.type)}; changing a column's type is not supported (cast it in the query, or replace the table)`,
        );
      }
    } else if (evolution === 'addColumns') {
      fields.push({ ...column, nullable: true });
      added.push(column.name);
    } else {
      throw new Error(
        `${where}: column "${column.name}" is not in the table (columns: ${table.fields.map((f) => f.name).join(', ')}); ` +
          `pass schemaEvolution: 'addColumns' to add it, or replace the table`,
      );
    }
  }
  for (const f of table.fields) {
    if (!f.nullable && !incoming.some((c) => c.name.toLowerCase() === f.name.toLowerCase())) {
      throw new Error(`${where}: column "${f.name}" is NOT NULL in the table but the query does not give it`);
    }
  }
  return { schema: { type: 'struct', fields }, added };
}

/**
 * Checks that `next` only adds nullable columns to `previous` (the schema evolution Delta readers of older
 * files support), naming the first column that breaks it.
 */
export function checkCompatible(previous: StructType, next: StructType, where: string): void {
  for (const f of previous.fields) {
    const n = next.fields.find((x) => x.name === f.name);
    if (!n)
      throw new Error(
        `${where}: column "${f.name}" would be dropped or renamed; only adding columns is supported`,
      );
    if (!sameType(f.type, n.type)) {
      throw new Error(
        `${where}: column "${f.name}" would change type from ${typeName(f.type)} to ${typeName(n.type)}`,
      );
    }
  }
  for (const n of next.fields) {
    if (!previous.fields.some((f) => f.name === n.name) && !n.nullable) {
      throw new Error(`${where}: added column "${n.name}" must be nullable`);
    }
  }
}

function newMetadata(
  schema: StructType,
  partitionColumns: string[],
  options: WriteOptions,
  id?: string,
): Metadata {
  return {
    id: id ?? randomUUID(),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    format: { provider: 'parquet', options: {} },
    schemaString: schemaString(schema),
    partitionColumns,
    configuration: options.configuration ?? {},
    createdTime: Date.now(),
  };
}

function removeOf(add: AddFile, now: number): RemoveFile {
  return {
    path: add.path,
    deletionTimestamp: now,
    dataChange: true,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
  };
}

/** The data and partition columns to write, reading `sourceColumns` of the query (missing ones as NULL). */
function dataColumns(
  schema: StructType,
  partitionColumns: string[],
  sourceColumns: QueryColumn[],
): { data: DataColumn[]; partitions: DataColumn[] } {
  const data: DataColumn[] = [];
  const partitions: DataColumn[] = [];
  for (const field of schema.fields) {
    const source = sourceColumns.find((c) => c.name.toLowerCase() === field.name.toLowerCase());
    const expr = source
      ? writeExpression(source.sourceName, source.duckType, field.type)
      : `CAST(NULL AS ${duckdbType(field.type)})`;
    (partitionColumns.includes(field.name) ? partitions : data).push({ field, expr });
  }
  // Folders nest in the order of metaData.partitionColumns, as Spark lays them out.
  partitions.sort((a, b) => partitionColumns.indexOf(a.field.name) - partitionColumns.indexOf(b.field.name));
  return { data, partitions };
}

async function commitAndCheckpoint(
  conn: DuckDBConnection,
  table: DeltaTable,
  request: CommitRequest,
  options: CommonWriteOptions,
): Promise<{ version: number; checkpoint?: WriteResult['checkpoint'] }> {
  const version = await commit(table.storage, request, { maxRetries: options.maxRetries });
  if (version === 0) return { version };
  try {
    const snapshot = await table.snapshot({ version });
    if (version % checkpointInterval(snapshot, options.checkpointInterval) !== 0) return { version };
    return { version, checkpoint: await writeCheckpoint(conn, snapshot) };
  } catch (e) {
    return { version, checkpoint: { error: e instanceof Error ? e.message : String(e) } };
  }
}

interface SchemaPlan {
  schema: StructType;
  partitionColumns: string[];
  /** The metaData action to commit, when the write creates, replaces or evolves the table. */
  metadata: Metadata | undefined;
}

/** The table's schema and partitioning after the write, checking that the query's columns fit. */
function planSchema(
  existing: Snapshot | undefined,
  replacing: boolean,
  incoming: StructField[],
  options: WriteOptions,
  where: string,
): SchemaPlan {
  if (replacing || !existing) {
    const schema: StructType = { type: 'struct', fields: incoming };
    const partitionColumns = resolvePartitionColumns(options.partitionBy ?? [], schema, where);
    return {
      schema,
      partitionColumns,
      metadata: newMetadata(schema, partitionColumns, options, existing?.metadata.id),
    };
  }
  const partitionColumns = existing.partitionColumns;
  if (options.partitionBy && options.partitionBy.join(',') !== partitionColumns.join(',')) {
    throw new Error(
      `${where} is partitioned by [${partitionColumns.join(', ')}], but the write asks for [${options.partitionBy.join(', ')}]; ` +
        "use mode 'create' to replace the table with a new partitioning",
    );
  }
  const { schema, added } = evolveSchema(existing.schema, incoming, options.schemaEvolution ?? 'none', where);
  if (added.length === 0) return { schema, partitionColumns, metadata: undefined };
  checkCompatible(existing.schema, schema, where);
  return { schema, partitionColumns, metadata: { ...existing.metadata, schemaString: schemaString(schema) } };
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
  if (!['create', 'append', 'overwrite', 'errorIfExists'].includes(mode)) {
    throw new Error(`writeDelta: mode must be create, append, overwrite or errorIfExists, found "${mode}"`);
  }
  const table = openDeltaTable(location, { conn });
  const where = table.location;
  const source = trimQuery(query);
  const existing = await currentSnapshot(table);
  if (existing) checkWritable(existing);
  if (options.readVersion !== undefined && (existing?.version ?? -1) !== options.readVersion) {
    throw new ConcurrentModificationError(
      `${where}: concurrent commit: the query read version ${options.readVersion}, but the table is at version ` +
        `${existing?.version ?? -1} now. Re-read the table and run the operation again.`,
      options.readVersion,
      options.readVersion + 1,
      existing?.version ?? -1,
    );
  }
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

  let columns = await describeQuery(conn, source);
  const replacing = !existing || mode === 'create';
  if (options.byPosition && !replacing) {
    const names = existing.schema.fields.map((f) => f.name);
    if (columns.length > names.length) {
      throw new Error(
        `${where}: the query gives ${columns.length} columns but the table has ${names.length} (${names.join(', ')})`,
      );
    }
    columns = columns.map((c, i) => ({ ...c, name: names[i]! }));
  }
  checkNames(columns, where);
  const incoming: StructField[] = columns.map((c) => ({
    name: c.name,
    type: deltaTypeFor(c.duckType, c.name),
    nullable: true,
    metadata: {},
  }));

  const { schema, partitionColumns, metadata } = planSchema(existing, replacing, incoming, options, where);

  const { data, partitions } = dataColumns(schema, partitionColumns, columns);
  if (existing && mode !== 'append' && mode !== 'create') checkNotAppendOnly(existing, mode);
  const rows = [...data, ...partitions].map((c) => `${c.expr} AS ${quoteIdent(c.field.name)}`).join(', ');
  await checkInvariants(conn, `SELECT ${rows} FROM (${source}) AS __delta_source`, schema, where);
  const written = await writeDataFiles(conn, table.storage, source, data, partitions);
  const now = Date.now();
  const removes = existing && mode !== 'append' ? existing.files.map((f) => removeOf(f, now)) : [];
  const txnActions: Action[] = options.txn ? [{ txn: { ...options.txn, lastUpdated: now } }] : [];
  const operation =
    options.operation ??
    (mode === 'create'
      ? existing
        ? 'CREATE OR REPLACE TABLE AS SELECT'
        : 'CREATE TABLE AS SELECT'
      : 'WRITE');
  const modeName = {
    create: 'Overwrite',
    append: 'Append',
    overwrite: 'Overwrite',
    errorIfExists: 'ErrorIfExists',
  }[mode];
  const request = (readVersion: number, withMetadata: boolean, blind: boolean): CommitRequest => ({
    readVersion,
    actions: [
      ...(readVersion < 0 ? [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }] : []),
      ...(withMetadata && metadata ? [{ metaData: metadata }] : []),
      ...txnActions,
      ...removes.map((remove) => ({ remove })),
      ...written.adds.map((add) => ({ add })),
    ],
    operation,
    operationParameters: options.operationParameters ?? {
      mode: modeName,
      partitionBy: JSON.stringify(partitionColumns),
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
  });

  const readVersion = existing?.version ?? -1;
  // An append whose query read this table is not blind: re-basing it could miss rows committed meanwhile.
  const blindAppend =
    mode === 'append' &&
    existing !== undefined &&
    metadata === undefined &&
    options.readVersion === undefined;
  let result: Awaited<ReturnType<typeof commitAndCheckpoint>>;
  try {
    result = await commitAndCheckpoint(conn, table, request(readVersion, true, blindAppend), options);
  } catch (e) {
    // Two appends that both found no table: the loser appends to the table the winner created, if the
    // files it wrote fit that table's schema and partitioning exactly.
    if (!(e instanceof ConcurrentModificationError) || mode !== 'append' || existing) throw e;
    const winner = await table.snapshot();
    const fits =
      winner.partitionColumns.join(',') === partitionColumns.join(',') &&
      winner.schema.fields.length === schema.fields.length &&
      winner.schema.fields.every(
        (f, i) => f.name === schema.fields[i]!.name && sameType(f.type, schema.fields[i]!.type),
      );
    if (!fits) throw e;
    result = await commitAndCheckpoint(conn, table, request(winner.version, false, true), options);
  }
  return {
    version: result.version,
    files: written.adds.length,
    rows: written.rows,
    committed: true,
    checkpoint: result.checkpoint,
  };
}

function resolvePartitionColumns(partitionBy: string[], schema: StructType, where: string): string[] {
  const resolved = partitionBy.map((name) => {
    const field = schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!field) {
      throw new Error(
        `${where}: partition column "${name}" is not in the query's columns (${schema.fields.map((f) => f.name).join(', ')})`,
      );
    }
    if (typeof field.type !== 'string')
      throw new Error(
        `${where}: partition column "${name}" must have a primitive type, found ${typeName(field.type)}`,
      );
    return field.name;
  });
  if (new Set(resolved).size !== resolved.length)
    throw new Error(`${where}: a partition column is listed twice`);
  if (resolved.length > 0 && resolved.length >= schema.fields.length) {
    throw new Error(`${where}: every column is a partition column; at least one data column is needed`);
  }
  return resolved;
}

const FILE_COLUMN = '__delta_file';

async function withTargetView<T>(
  conn: DuckDBConnection,
  snapshot: Snapshot,
  use: (viewName: string) => Promise<T>,
): Promise<T> {
  const view = `__delta_target_${randomUUID().replace(/-/g, '')}`;
  await conn.run(`CREATE TEMP VIEW ${view} AS ${await scanSql(conn, snapshot, { fileColumn: FILE_COLUMN })}`);
  try {
    return await use(view);
  } finally {
    await conn.run(`DROP VIEW IF EXISTS ${view}`);
  }
}

function columnsOf(snapshot: Snapshot): { data: DataColumn[]; partitions: DataColumn[] } {
  return dataColumns(
    snapshot.schema,
    snapshot.partitionColumns,
    snapshot.schema.fields.map((f) => ({ name: f.name, duckType: duckdbType(f.type), sourceName: f.name })),
  );
}

async function existingSnapshot(table: DeltaTable): Promise<Snapshot> {
  const snapshot = await table.snapshot();
  checkWritable(snapshot);
  return snapshot;
}

/** Writer version 2: a table with delta.appendOnly = true only takes appends. */
function checkNotAppendOnly(snapshot: Snapshot, operation: string): void {
  if (snapshot.property('delta.appendOnly')?.toLowerCase() === 'true') {
    throw new Error(
      `${snapshot.storage.location} is append-only (delta.appendOnly = true): ${operation} would remove data; only appends are allowed`,
    );
  }
}

/**
 * Writer version 2: NOT NULL columns and column invariants (field metadata `delta.invariants`, a SQL boolean
 * expression) must hold for every row written. `relation` is SQL giving the rows with the table's column names.
 */
async function checkInvariants(
  conn: DuckDBConnection,
  relation: string,
  schema: StructType,
  where: string,
): Promise<void> {
  const checks: { sql: string; what: string }[] = [];
  for (const field of schema.fields) {
    if (!field.nullable)
      checks.push({
        sql: `${quoteIdent(field.name)} IS NOT NULL`,
        what: `column "${field.name}" is NOT NULL`,
      });
    const invariant = field.metadata['delta.invariants'];
    if (typeof invariant === 'string') {
      const expression = (JSON.parse(invariant) as { expression?: { expression?: string } }).expression
        ?.expression;
      if (expression)
        checks.push({ sql: `(${expression})`, what: `invariant of column "${field.name}": ${expression}` });
    }
  }
  if (checks.length === 0) return;
  const counts = checks
    .map((c, i) => `count(*) FILTER (WHERE NOT coalesce(${c.sql}, false)) AS v${i}`)
    .join(', ');
  const row = (await conn.runAndReadAll(`SELECT ${counts} FROM (${relation}) AS __delta_rows`)).getRows()[0]!;
  checks.forEach((c, i) => {
    if (Number(row[i]) > 0)
      throw new Error(`${where}: ${Number(row[i])} rows break the ${c.what}; nothing was written`);
  });
}

export interface DeleteResult extends WriteResult {
  deletedRows: number;
}

/** Deletes the rows for which the DuckDB predicate `predicateSql` is true, rewriting only the files that hold them. */
export async function deleteWhere(
  conn: DuckDBConnection,
  location: string | DeltaStorage,
  predicateSql: string,
  options: CommonWriteOptions = {},
): Promise<DeleteResult> {
  const table = openDeltaTable(location, { conn });
  const snapshot = await existingSnapshot(table);
  checkNotAppendOnly(snapshot, 'DELETE');
  const predicate = `(${predicateSql})`;
  return withTargetView(conn, snapshot, async (view) => {
    const counts = await conn.runAndReadAll(
      `SELECT ${FILE_COLUMN}, count(*) FILTER (WHERE ${predicate}) AS deleted, count(*) AS total ` +
        `FROM ${view} GROUP BY ${FILE_COLUMN} HAVING count(*) FILTER (WHERE ${predicate}) > 0`,
    );
    const affected = counts.getRows().map(([file, deleted, total]) => ({
      path: String(file),
      deleted: Number(deleted),
      total: Number(total),
    }));
    const deletedRows = affected.reduce((n, f) => n + f.deleted, 0);
    if (affected.length === 0) {
      return { version: snapshot.version, files: 0, rows: 0, committed: false, deletedRows: 0 };
    }
    // Only the files holding deleted rows are read again and rewritten without them.
    const rewrite = new Set(affected.filter((f) => f.deleted < f.total).map((f) => f.path));
    const { data, partitions } = columnsOf(snapshot);
    const written =
      rewrite.size > 0
        ? await writeDataFiles(
            conn,
            table.storage,
            `SELECT * FROM (${await scanSql(conn, snapshot, { onlyFiles: rewrite })}) AS kept WHERE NOT coalesce(${predicate}, false)`,
            data,
            partitions,
          )
        : { adds: [], rows: 0, bytes: 0 };
    const now = Date.now();
    const removed = affected.map((f) => removeOf(snapshot.state.files.get(f.path)!, now));
    const result = await commitAndCheckpoint(
      conn,
      table,
      {
        readVersion: snapshot.version,
        actions: [...removed.map((remove) => ({ remove })), ...written.adds.map((add) => ({ add }))],
        operation: 'DELETE',
        operationParameters: { predicate: JSON.stringify([predicateSql]) },
        operationMetrics: {
          numRemovedFiles: removed.length,
          numAddedFiles: written.adds.length,
          numDeletedRows: deletedRows,
          numCopiedRows: written.rows,
        },
        isBlindAppend: false,
        userMetadata: options.userMetadata,
      },
      options,
    );
    return {
      version: result.version,
      files: written.adds.length,
      rows: written.rows,
      committed: true,
      deletedRows,
      checkpoint: result.checkpoint,
    };
  });
}

export interface MergeOptions extends CommonWriteOptions {
  /** The alias the statement uses for the target table, e.g. `t`. */
  targetAlias: string;
  /**
   * The MERGE after the target: `USING <source> [AS] s ON <condition> WHEN …`, in DuckDB's MERGE syntax
   * (UPDATE SET takes unqualified target columns). `INSERT *` and `UPDATE SET *` match columns by name, as in
   * Spark.
   */
  statementTail: string;
}

export interface MergeResult extends WriteResult {
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * MERGE INTO the table (copy-on-write). Files holding target rows that match some source row are read into a
 * temporary table, DuckDB's own MERGE runs on it, and its rows replace those files; unmatched files stay.
 */
export async function mergeDelta(
  conn: DuckDBConnection,
  location: string | DeltaStorage,
  options: MergeOptions,
): Promise<MergeResult> {
  const table = openDeltaTable(location, { conn });
  const snapshot = await existingSnapshot(table);
  const tail = parseMergeTail(trimQuery(options.statementTail));
  const alias = options.targetAlias.trim();
  if (!/^([A-Za-z_][A-Za-z0-9_]*|"(?:[^"]|"")+")$/.test(alias)) {
    throw new Error(`mergeDelta: targetAlias must be an identifier, found "${options.targetAlias}"`);
  }
  const temp = `__delta_merge_${randomUUID().replace(/-/g, '')}`;
  return withTargetView(conn, snapshot, async (view) => {
    const matching = tail.matchesBySource
      ? `SELECT DISTINCT ${FILE_COLUMN} FROM ${view}`
      : `SELECT DISTINCT ${alias}.${FILE_COLUMN} FROM ${view} AS ${alias} JOIN ${tail.source} ON ${tail.condition}`;
    const files = (await conn.runAndReadAll(matching)).getRows().map(([f]) => String(f));
    // Only the affected files are read into the temporary table that DuckDB's MERGE then changes.
    const affected = await scanSql(conn, snapshot, { onlyFiles: new Set(files) });
    await conn.run(`CREATE TEMP TABLE ${temp} AS ${affected}`);
    try {
      const before = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${temp}`)).getRows()[0]![0]);
      const merged = await conn.runAndReadAll(
        `MERGE INTO ${temp} AS ${alias} ${tail.duckdbTail} RETURNING merge_action`,
      );
      const counts = { INSERT: 0, UPDATE: 0, DELETE: 0 } as Record<string, number>;
      for (const [action] of merged.getRows()) counts[String(action)] = (counts[String(action)] ?? 0) + 1;
      const changed = counts.INSERT! + counts.UPDATE! + counts.DELETE!;
      if (changed === 0) {
        return {
          version: snapshot.version,
          files: 0,
          rows: 0,
          committed: false,
          inserted: 0,
          updated: 0,
          deleted: 0,
        };
      }
      const { data, partitions } = columnsOf(snapshot);
      // With inserts only, the matched files are unchanged: keep them and write just the new rows, which DuckDB
      // appended after the `before` rows that the temporary table was created with.
      const insertsOnly = counts.UPDATE! + counts.DELETE! === 0;
      if (!insertsOnly) checkNotAppendOnly(snapshot, 'MERGE');
      const output = insertsOnly ? `SELECT * FROM ${temp} WHERE rowid >= ${before}` : `SELECT * FROM ${temp}`;
      await checkInvariants(conn, output, snapshot.schema, table.location);
      const written = await writeDataFiles(conn, table.storage, output, data, partitions);
      const now = Date.now();
      const removed = insertsOnly ? [] : files.map((f) => removeOf(snapshot.state.files.get(f)!, now));
      const result = await commitAndCheckpoint(
        conn,
        table,
        {
          readVersion: snapshot.version,
          actions: [...removed.map((remove) => ({ remove })), ...written.adds.map((add) => ({ add }))],
          operation: 'MERGE',
          operationParameters: { predicate: JSON.stringify([tail.condition]) },
          operationMetrics: {
            numTargetRowsInserted: counts.INSERT!,
            numTargetRowsUpdated: counts.UPDATE!,
            numTargetRowsDeleted: counts.DELETE!,
            numTargetRowsCopied: insertsOnly ? 0 : before - counts.UPDATE! - counts.DELETE!,
            numOutputRows: written.rows,
            numTargetFilesRemoved: removed.length,
            numTargetFilesAdded: written.adds.length,
          },
          isBlindAppend: false,
          userMetadata: options.userMetadata,
        },
        options,
      );
      return {
        version: result.version,
        files: written.adds.length,
        rows: written.rows,
        committed: true,
        inserted: counts.INSERT!,
        updated: counts.UPDATE!,
        deleted: counts.DELETE!,
        checkpoint: result.checkpoint,
      };
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${temp}`);
    }
  });
}

interface MergeTail {
  source: string;
  condition: string;
  /** WHEN NOT MATCHED BY SOURCE changes target rows that match nothing: every file is affected. */
  matchesBySource: boolean;
  /** The tail for DuckDB: Spark's `INSERT *` / `UPDATE SET *` (by column name) as `INSERT BY NAME` / `UPDATE BY NAME`. */
  duckdbTail: string;
}

/** Top-level words of `sql` (outside quotes, comments and parentheses), upper-cased, with their offsets. */
function topLevelWords(sql: string): { word: string; index: number; end: number }[] {
  const words: { word: string; index: number; end: number }[] = [];
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      i = end < 0 ? sql.length : end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && c === '*') words.push({ word: '*', index: i, end: i + 1 });
    else if (depth === 0 && /[A-Za-z_]/.test(c) && (i === 0 || !/[A-Za-z0-9_]/.test(sql[i - 1]!))) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))!;
      words.push({ word: m[0].toUpperCase(), index: i, end: i + m[0].length });
      i += m[0].length - 1;
    }
  }
  return words;
}

/** Splits `USING <source> ON <condition> WHEN …` at its top-level keywords. */
export function parseMergeTail(tail: string): MergeTail {
  const words = topLevelWords(tail);
  const using = words.find((w) => w.word === 'USING');
  const on = words.find((w) => w.word === 'ON' && using && w.index > using.index);
  const when = words.find((w) => w.word === 'WHEN' && on && w.index > on.index);
  if (!using || !on || !when || using.index !== 0) {
    throw new Error(
      `mergeDelta: expected the statement tail to read "USING <source> [AS] <alias> ON <condition> WHEN …", found "${tail.slice(0, 120)}"`,
    );
  }
  // Replace from the end so that earlier offsets stay valid.
  let duckdbTail = tail;
  for (let i = words.length - 1; i >= 1; i--) {
    const [a, b, c] = [words[i - 1]!, words[i]!, words[i + 1]];
    if (a.word === 'INSERT' && b.word === '*') {
      duckdbTail = `${duckdbTail.slice(0, a.index)}INSERT BY NAME${duckdbTail.slice(b.end)}`;
    } else if (a.word === 'UPDATE' && b.word === 'SET' && c?.word === '*') {
      duckdbTail = `${duckdbTail.slice(0, a.index)}UPDATE BY NAME${duckdbTail.slice(c.end)}`;
    }
  }
  const upper = words.map((w) => w.word).join(' ');
  return {
    source: tail.slice(using.end, on.index).trim(),
    condition: tail.slice(on.end, when.index).trim(),
    matchesBySource: /\bNOT MATCHED BY SOURCE\b/.test(upper),
    duckdbTail,
  };
}
