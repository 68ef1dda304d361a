// src/notebooks/ holds the Databricks SQL notebooks' local side: the parser and lexer, the statement forms and
// parameters, this DuckDB runner, its table stores (Delta or DuckDB), the SQL source and Spark-compatibility macros.
//
// The local runner: executes Databricks SQL notebooks on DuckDB, statement by statement, in the
// documented forms only (see statements.ts). Tables go through a TableStore (Delta, or plain
// DuckDB tables), extraction views through a SqlSource (the configured SQL store).
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import type { Token } from './lexer.ts';
import { ParamError, paramNames, renderForDuckDB, type NotebookParams } from './params.ts';
import { NotebookError, readNotebook, type NotebookCell, type NotebookLocation } from './parser.ts';
import { ASSERTION_MARKER, installSparkCompat } from './spark-compat.ts';
import type { SqlSource } from './sql-source.ts';
import {
  referencedTables,
  classifyStatement,
  StatementFormError,
  tableNameText,
  type Statement,
} from './statements.ts';
import { quoteIdentifier, type TableStore } from './table-store.ts';

export interface RunNotebooksOptions {
  /** Notebook files, run in this order. */
  notebooks: readonly string[];
  conn: DuckDBConnection;
  tables: TableStore;
  source: SqlSource;
  /** Values for the `:name` markers (widgets on Databricks). */
  params?: NotebookParams;
  /** Called after every table write, as it happens. */
  onTable?: (written: TableWritten) => void;
  /** Rows kept from each plain query's result (default 100). */
  maxResultRows?: number;
  /** Told as each SQL cell starts and finishes, e.g. to show a timer per cell while a long one runs. */
  onCell?: (event: CellEvent) => void;
}

export interface CellEvent {
  phase: 'start' | 'finish';
  notebook: string;
  /** The cell's position in its notebook, as Databricks shows it, and its title. */
  cell: number;
  title?: string;
  /** This cell among the SQL cells of the whole run (1-based), and how many there are. */
  position: number;
  total: number;
  /** How long the cell took (on finish). */
  seconds?: number;
}

export interface TableWritten {
  table: string;
  operation: 'create or replace' | 'insert' | 'merge';
  /** The committed table version; undefined for stores without versions. */
  version?: number;
  /** Rows in the table after the write. */
  rows: number;
  notebook: string;
  cell: number;
}

export type StatementResult =
  | { kind: 'extract'; view: string; dbtable: string; rows: number }
  | { kind: 'table'; written: TableWritten }
  | { kind: 'temp-view'; view: string }
  | { kind: 'cached'; view: string }
  | { kind: 'table-if-absent'; table: string; created: boolean }
  | { kind: 'create-schema'; schema: string }
  | { kind: 'query'; columns: string[]; rows: Record<string, JS>[]; truncated: boolean }
  | { kind: 'assertion' };

export interface CellResult {
  index: number;
  title?: string;
  statements: StatementResult[];
  seconds: number;
}

export interface NotebookResult {
  path: string;
  cells: CellResult[];
  seconds: number;
}

export interface RunResult {
  notebooks: NotebookResult[];
  /** Every table written, in order. */
  tables: TableWritten[];
}

/** A data-quality check (assert_true) that did not hold: the run stops here. */
export class NotebookAssertionError extends NotebookError {
  constructor(where: NotebookLocation, message: string) {
    super(where, `assertion failed: ${message}`);
    this.name = 'NotebookAssertionError';
  }
}

export async function runNotebooks(options: RunNotebooksOptions): Promise<RunResult> {
  // Every notebook parses before any runs: a typo in the last one must not leave the first half done.
  const notebooks = [];
  for (const file of options.notebooks) notebooks.push(await readNotebook(file));
  await installSparkCompat(options.conn);
  const result: RunResult = { notebooks: [], tables: [] };
  const total = notebooks.reduce((n, nb) => n + nb.cells.filter((c) => c.kind === 'sql').length, 0);
  let position = 0;
  for (const notebook of notebooks) {
    const started = performance.now();
    const cells: CellResult[] = [];
    for (const cell of notebook.cells) {
      if (cell.kind !== 'sql') continue;
      const event = {
        notebook: notebook.path,
        cell: cell.index,
        title: cell.title,
        position: ++position,
        total,
      };
      options.onCell?.({ phase: 'start', ...event });
      const done = await runCell(notebook.path, cell, options, result.tables);
      options.onCell?.({ phase: 'finish', ...event, seconds: done.seconds });
      cells.push(done);
    }
    result.notebooks.push({ path: notebook.path, cells, seconds: (performance.now() - started) / 1000 });
  }
  return result;
}

async function runCell(
  notebook: string,
  cell: NotebookCell,
  options: RunNotebooksOptions,
  tables: TableWritten[],
): Promise<CellResult> {
  const started = performance.now();
  const statements: StatementResult[] = [];
  for (const statement of cell.statements) {
    const where = { notebook, cell: { index: cell.index, title: cell.title }, line: statement.line };
    try {
      const parsed = classifyStatement(statement.tokens);
      const outcome = await execute(parsed, options, where);
      if (outcome.kind === 'table') {
        tables.push(outcome.written);
        options.onTable?.(outcome.written);
      }
      statements.push(outcome);
    } catch (e) {
      throw asNotebookError(e, where);
    }
  }
  return { index: cell.index, title: cell.title, statements, seconds: (performance.now() - started) / 1000 };
}

type StatementWhere = NotebookLocation & { cell: { index: number } };
type TableStatement = Extract<Statement, { kind: 'create-table' | 'insert' | 'merge' }>;

async function execute(
  statement: Statement,
  options: RunNotebooksOptions,
  where: StatementWhere,
): Promise<StatementResult> {
  const { conn } = options;
  switch (statement.kind) {
    case 'extract': {
      const { rows } = await options.source.extractTable(statement.options, conn, statement.view);
      return { kind: 'extract', view: statement.view, dbtable: statement.options.dbtable ?? '', rows };
    }
    case 'create-table':
    case 'insert':
    case 'merge':
      return writeTable(statement, options, where);
    case 'temp-view':
      return createTempView(statement, options);
    case 'cache-table':
      // Spark's CACHE TABLE v AS query computes the rows once for the statements after it: a temporary table.
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(statement.view)} AS ${await duckdbSql(statement.query, options)}`,
      );
      return { kind: 'cached', view: statement.view };
    case 'create-schema':
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(statement.schema)}`);
      return { kind: 'create-schema', schema: statement.schema };
    case 'query':
      return runQuery(statement, options);
  }
}

/** The statement's SQL for DuckDB, once every table it names has its view. */
async function duckdbSql(tokens: Token[], options: RunNotebooksOptions): Promise<string> {
  for (const name of referencedTables(tokens)) await options.tables.ensureView(name);
  return renderForDuckDB(tokens, options.params ?? {});
}

/** CREATE OR REPLACE TABLE, INSERT INTO and MERGE INTO, through the table store. */
async function writeTable(
  statement: TableStatement,
  options: RunNotebooksOptions,
  where: StatementWhere,
): Promise<StatementResult> {
  const { tables } = options;
  const result = (operation: TableWritten['operation'], w: { version?: number; rows: number }) => ({
    kind: 'table' as const,
    written: {
      table: tableNameText(statement.table),
      operation,
      ...w,
      notebook: where.notebook,
      cell: where.cell.index,
    },
  });
  switch (statement.kind) {
    case 'create-table': {
      if (statement.ifNotExists) return createIfAbsent(statement, options);
      const query = await duckdbSql(statement.query, options);
      return result(
        'create or replace',
        await tables.createOrReplace(statement.table, query, { partitionBy: statement.partitionBy }),
      );
    }
    case 'insert':
      return result(
        'insert',
        await tables.insertInto(statement.table, await duckdbSql(statement.query, options)),
      );
    case 'merge': {
      await tables.ensureView(statement.table);
      const tail = await duckdbSql(statement.tail, options);
      return result('merge', await tables.merge(statement.table, statement.targetAlias, tail));
    }
  }
}

/**
 * CREATE TABLE IF NOT EXISTS: creates the table when it is absent and commits nothing when it is there. Not
 * reported as a table write either way (nor on Spark, which cannot tell which happened): the notebooks create a
 * table empty so that a MERGE, which is reported, fills it.
 */
async function createIfAbsent(
  statement: Extract<Statement, { kind: 'create-table' }>,
  options: RunNotebooksOptions,
): Promise<StatementResult> {
  const table = tableNameText(statement.table);
  if (await options.tables.ensureView(statement.table))
    return { kind: 'table-if-absent', table, created: false };
  const query = await duckdbSql(statement.query, options);
  await options.tables.createOrReplace(statement.table, query, { partitionBy: statement.partitionBy });
  return { kind: 'table-if-absent', table, created: true };
}

async function createTempView(
  statement: Extract<Statement, { kind: 'temp-view' }>,
  options: RunNotebooksOptions,
): Promise<StatementResult> {
  const markers = paramNames(statement.query);
  if (markers.length > 0) {
    // Databricks rejects parameter markers in view definitions (DBR 17.3 and earlier).
    throw new ParamError(
      `temporary view ${statement.view} uses parameter markers (${markers.map((m) => `:${m}`).join(', ')}), which Databricks does not allow in a view definition: use them in the query that reads the view`,
    );
  }
  await options.conn.run(
    `CREATE OR REPLACE TEMP VIEW ${quoteIdentifier(statement.view)} AS ${await duckdbSql(statement.query, options)}`,
  );
  return { kind: 'temp-view', view: statement.view };
}

/** A plain query keeps its first rows; an assertion (assert_true) only has to run without failing. */
async function runQuery(
  statement: Extract<Statement, { kind: 'query' }>,
  options: RunNotebooksOptions,
): Promise<StatementResult> {
  const { conn } = options;
  const query = await duckdbSql(statement.query, options);
  if (statement.assertion) {
    await conn.run(query);
    return { kind: 'assertion' };
  }
  const limit = options.maxResultRows ?? 100;
  const reader = await conn.runAndReadUntil(query, limit + 1);
  const rows = reader.getRowObjectsJS();
  return {
    kind: 'query',
    columns: reader.columnNames(),
    rows: rows.slice(0, limit),
    truncated: rows.length > limit,
  };
}

function asNotebookError(e: unknown, where: NotebookLocation): NotebookError {
  if (e instanceof NotebookError) return e;
  if (e instanceof StatementFormError || e instanceof ParamError) {
    return new NotebookError({ ...where, line: e.line ?? where.line }, e.message);
  }
  const message = e instanceof Error ? e.message : String(e);
  const marker = message.indexOf(ASSERTION_MARKER);
  if (marker !== -1)
    return new NotebookAssertionError(where, message.slice(marker + ASSERTION_MARKER.length).trim());
  return new NotebookError(where, message, { cause: e });
}
