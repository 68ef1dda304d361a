// The notebooks as one Spark job: cells split as Databricks splits them (src/notebooks/parser.ts), each statement
// checked against the same documented forms as on DuckDB (statements.ts), `:name` markers passed as named
// parameters (never spliced), extraction views mapped to Spark's JDBC source (jdbc.ts). Every table write is
// followed by two small statements that read the version it committed and its row count, for the manifest.
import { paramNames, ParamError, type NotebookParams, type ParamValue } from '../notebooks/params.ts';
import { NotebookError, type Notebook, type NotebookLocation } from '../notebooks/parser.ts';
import { classifyStatement, StatementFormError, type TableName } from '../notebooks/statements.ts';
import { extractionOptions, type JdbcConnection } from './jdbc.ts';
import type { SparkParam, SparkStatement } from './engine.ts';

/** Where a statement of the job comes from, and what its result means. */
export interface JobStep {
  notebook: string;
  cell: { index: number; title?: string };
  line: number;
  role:
    | { kind: 'statement'; form: string; table?: TableName; operation?: TableOperation }
    // the two statements that follow a table write: its committed version and its row count
    | { kind: 'version' | 'rows'; table: TableName };
}

export type TableOperation = 'create or replace' | 'insert' | 'merge';

export interface NotebookJob {
  statements: SparkStatement[];
  steps: Map<string, JobStep>;
  /** Every schema a notebook names, so that the catalog places it in the Delta folder before it runs. */
  schemas: string[];
}

/** Rows a plain query returns to the manifest, as on DuckDB. */
export const MAX_RESULT_ROWS = 100;

const quoteName = (t: TableName) =>
  `\`${t.schema.replaceAll('`', '``')}\`.\`${t.name.replaceAll('`', '``')}\``;

/**
 * Builds the job. `connection` is the SQL store the extraction cells read; it is needed only when a notebook has
 * one. Errors name the notebook, cell and line, as on DuckDB.
 */
export function notebookJob(
  notebooks: readonly Notebook[],
  params: NotebookParams,
  connection: () => JdbcConnection,
): NotebookJob {
  const statements: SparkStatement[] = [];
  const steps = new Map<string, JobStep>();
  const schemas = new Set<string>();
  const add = (statement: SparkStatement, step: JobStep) => {
    statements.push(statement);
    steps.set(statement.id, step);
  };
  notebooks.forEach((notebook, n) => {
    for (const cell of notebook.cells) {
      cell.statements.forEach((s, i) => {
        const where = {
          notebook: notebook.path,
          cell: { index: cell.index, title: cell.title },
          line: s.line,
        };
        const id = `${n + 1}.${cell.index}.${i + 1}`;
        try {
          const parsed = classifyStatement(s.tokens);
          if (parsed.kind === 'extract') {
            const jdbc = extractionOptions(parsed.options, connection());
            add({ id, view: parsed.view, jdbc }, { ...where, role: { kind: 'statement', form: 'extract' } });
            return;
          }
          if (parsed.kind === 'temp-view' && paramNames(parsed.query).length > 0) {
            // Databricks rejects parameter markers in view definitions (DBR 17.3 and earlier); so does the local runner.
            throw new ParamError(
              `temporary view ${parsed.view} uses parameter markers (${paramNames(parsed.query)
                .map((m) => `:${m}`)
                .join(
                  ', ',
                )}), which Databricks does not allow in a view definition: use them in the query that reads the view`,
            );
          }
          if (parsed.kind === 'create-schema') schemas.add(parsed.schema);
          const table = 'table' in parsed ? parsed.table : undefined;
          if (table) schemas.add(table.schema);
          // CREATE TABLE IF NOT EXISTS is not reported as a write, as on DuckDB (runner.ts, createIfAbsent).
          const ifNotExists = parsed.kind === 'create-table' && parsed.ifNotExists;
          const operation = table && !ifNotExists ? operationOf(parsed.kind) : undefined;
          const isQuery = parsed.kind === 'query' && !parsed.assertion;
          const form = parsed.kind === 'query' && parsed.assertion ? 'assertion' : parsed.kind;
          add(
            { id, sql: s.sql, args: boundArgs(s.tokens, params), maxRows: isQuery ? MAX_RESULT_ROWS : 0 },
            { ...where, role: { kind: 'statement', form, table, operation } },
          );
          if (table && operation) {
            const role = (kind: 'version' | 'rows') => ({ ...where, role: { kind, table } });
            add(
              { id: `${id}/version`, sql: `DESCRIBE HISTORY ${quoteName(table)} LIMIT 1`, maxRows: 1 },
              role('version'),
            );
            add(
              { id: `${id}/rows`, sql: `SELECT count(*) FROM ${quoteName(table)}`, maxRows: 1 },
              role('rows'),
            );
          }
        } catch (e) {
          throw notebookError(e, where);
        }
      });
    }
  });
  return { statements, steps, schemas: [...schemas] };
}

function operationOf(kind: string): TableOperation | undefined {
  if (kind === 'create-table') return 'create or replace';
  if (kind === 'insert' || kind === 'merge') return kind;
  return undefined;
}

/** The parameters a statement names, as Spark literals; a marker without a value is an error, as on DuckDB. */
function boundArgs(
  tokens: Parameters<typeof paramNames>[0],
  params: NotebookParams,
): Record<string, SparkParam> {
  const args: Record<string, SparkParam> = {};
  for (const name of paramNames(tokens)) {
    if (!Object.hasOwn(params, name)) {
      const given = Object.keys(params);
      const line = tokens.find((t) => t.kind === 'param' && t.text === `:${name}`)?.line;
      throw new ParamError(
        `parameter :${name} has no value (parameters given: ${given.length ? given.join(', ') : 'none'})`,
        line,
      );
    }
    args[name] = sparkParam(name, params[name]!);
  }
  return args;
}

function sparkParam(name: string, value: ParamValue): SparkParam {
  if (typeof value === 'bigint') {
    if (!Number.isSafeInteger(Number(value)))
      throw new ParamError(`parameter :${name} is outside the integers a job can carry exactly: ${value}`);
    return Number(value);
  }
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new ParamError(`parameter :${name} must be a finite number, got ${value}`);
  return value;
}

function notebookError(e: unknown, where: NotebookLocation): NotebookError {
  if (e instanceof NotebookError) return e;
  if (e instanceof StatementFormError || e instanceof ParamError)
    return new NotebookError({ ...where, line: e.line ?? where.line }, e.message);
  return new NotebookError(where, e instanceof Error ? e.message : String(e), { cause: e });
}
