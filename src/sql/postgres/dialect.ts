// The load plan in PostgreSQL's SQL, shared by a PostgreSQL server (pg) and the embedded PGlite. What differs
// from the shared statements: TEXT keys need no length, a temporary staging table dropped at commit, MAX … OVER
// in an UPDATE … FROM, and INSERT … ON CONFLICT for the merge.
import type { ColumnConfig } from '../../config/schema.ts';
import { anyCause, SqlDialect, type Parameters } from '../dialect-common.ts';
import { checkIdentifier } from '../identifiers.ts';
import { LINEAGE, STAGING_META, type LoadTables, type SqlEngine, type Statement } from '../types.ts';

const [LINE, REASON, RAW, RAW_HEX] = STAGING_META;
/** SQLSTATEs of an object that exists already: a catalog's unique index, a table, schema, object or column. */
const DUPLICATE_OBJECT = new Set(['23505', '42P07', '42P06', '42710', '42701']);

/** A name between double quotes (the dialect checks identifiers first; catalog names need only this). */
export function quotePostgres(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** The index on the object name that replacing or withdrawing an object's rows looks them up by. */
function objectIndex(t: LoadTables): string {
  return `${t.target}_source_object`;
}

export class PostgresDialect extends SqlDialect {
  readonly engine: SqlEngine;
  readonly schema: string;
  protected readonly label = 'PostgreSQL';
  protected readonly now = 'now()';
  protected readonly auditKey = 'columns';
  protected readonly insertsInLineOrder = false;

  constructor(engine: 'postgres' | 'pglite', schema = 'public') {
    super();
    this.engine = engine;
    this.schema = checkIdentifier(schema, 'schema');
  }

  protected placeholder(n: number): string {
    return `$${n}`;
  }

  protected quoteName(name: string): string {
    return quotePostgres(name);
  }

  /** PostgreSQL infers a parameter's type from its use; where nothing says text, the cast does. */
  protected override textParameter(placeholder: string): string {
    return `CAST(${placeholder} AS TEXT)`;
  }

  table(name: string): string {
    return `${this.quote(this.schema)}.${this.quote(name)}`;
  }

  staging(t: LoadTables): string {
    return this.quote(t.staging.name);
  }

  columnType(column: ColumnConfig): string {
    switch (column.type) {
      case 'string':
        return 'TEXT';
      case 'integer':
        return 'BIGINT';
      case 'double':
        return 'DOUBLE PRECISION';
      case 'boolean':
        return 'BOOLEAN';
      case 'date':
        return 'DATE';
      case 'timestamp':
        return 'TIMESTAMP';
      default:
        return column.type.toUpperCase().replace(/\s+/g, '');
    }
  }

  protected cast(column: ColumnConfig, _t?: LoadTables, value = this.quote(column.name)): string {
    return `CAST(${value} AS ${this.columnType(column)})`;
  }

  /**
   * What COPY writes an append into: the target and its columns, the dataset's then the lineage. COPY reads each
   * value with the column type's input function, as CAST does, so the rows arrive as applyRows would cast them.
   */
  appendTarget(t: LoadTables): string {
    return `${this.table(t.target)} (${this.targetColumns(t).join(', ')})`;
  }

  ensureTables(t: LoadTables): string[] {
    const q = (n: string) => this.quote(n);
    const columns = t.columns.map(
      (c) => `${q(c.name)} ${this.columnType(c)}${c.nullable ? '' : ' NOT NULL'}`,
    );
    const key = t.mode === 'merge' ? [`PRIMARY KEY (${t.keys.map(q).join(', ')})`] : [];
    const schema = this.schema === 'public' ? [] : [`CREATE SCHEMA IF NOT EXISTS ${q(this.schema)}`];
    return [
      ...schema,
      `CREATE TABLE IF NOT EXISTS ${this.table(t.target)} (${[
        ...columns,
        `${q(LINEAGE[0])} TEXT NOT NULL`,
        `${q(LINEAGE[1])} BIGINT NOT NULL`,
        ...key,
      ].join(', ')})`,
      this.createIndex(objectIndex(t), t.target, q(LINEAGE[0])),
      `CREATE TABLE IF NOT EXISTS ${this.table(t.audit)} (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dataset TEXT NOT NULL, target_table TEXT NOT NULL,
        bucket TEXT NOT NULL, object_name TEXT NOT NULL, generation TEXT NOT NULL, md5 TEXT NOT NULL, size BIGINT NOT NULL,
        rows_in BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_replaced BIGINT, blank_lines BIGINT,
        run_id TEXT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (bucket, object_name, generation))`,
      `CREATE TABLE IF NOT EXISTS ${this.table(t.quarantine)} (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dataset TEXT NOT NULL, bucket TEXT NOT NULL, object_name TEXT NOT NULL, generation TEXT NOT NULL,
        line_number BIGINT NOT NULL, raw_text TEXT NOT NULL, raw_bytes BYTEA, reason TEXT NOT NULL,
        run_id TEXT NOT NULL, quarantined_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      this.createIndex(`${t.quarantine}_object`, t.quarantine, 'bucket, object_name'),
    ];
  }

  /**
   * The object-name index dropped, then built again: for PGlite, which no other session shares, an append into
   * an empty target builds it once after the COPY rather than row by row (several times faster).
   */
  objectIndexStatements(t: LoadTables): { drop: string; create: string } {
    const name = objectIndex(t);
    return {
      drop: `DROP INDEX IF EXISTS ${this.quote(this.schema)}.${this.quote(name)}`,
      create: this.createIndex(name, t.target, this.quote(LINEAGE[0])),
    };
  }

  /** Whether the target holds no row this transaction sees (an earlier generation's rows deleted). */
  targetIsEmpty(t: LoadTables): string {
    return `SELECT NOT EXISTS (SELECT 1 FROM ${this.table(t.target)}) AS empty`;
  }

  /**
   * CREATE INDEX IF NOT EXISTS, run only where the index is missing: the statement locks its table before it
   * looks, so it would wait for every load under way into that table to commit. (Names are checked identifiers.)
   */
  private createIndex(name: string, table: string, columns: string): string {
    const index = `${this.quote(this.schema)}.${this.quote(name)}`;
    return `DO $$ BEGIN IF to_regclass('${index}') IS NULL THEN
      CREATE INDEX IF NOT EXISTS ${this.quote(name)} ON ${this.table(table)} (${columns}); END IF; END $$`;
  }

  createStaging(t: LoadTables): string[] {
    const q = (n: string) => this.quote(n);
    const meta = [`${q(LINE)} BIGINT NOT NULL`, `${q(REASON)} TEXT`, `${q(RAW)} TEXT`, `${q(RAW_HEX)} TEXT`];
    return [
      `CREATE TEMP TABLE ${this.staging(t)} (${[...meta, ...t.columns.map((c) => `${q(c.name)} TEXT`)].join(', ')}) ON COMMIT DROP`,
    ];
  }

  isUniqueViolation(error: unknown): boolean {
    return (error as { code?: unknown } | undefined)?.code === '23505';
  }

  isDuplicateObject(error: unknown): boolean {
    return anyCause(error, (e) => DUPLICATE_OBJECT.has(String(e.code)));
  }

  addQuarantineBytes(t: LoadTables): string {
    return `ALTER TABLE ${this.table(t.quarantine)} ADD COLUMN IF NOT EXISTS raw_bytes BYTEA`;
  }

  protected fromHex(hex: string): string {
    return `decode(${hex}, 'hex')`;
  }

  protected catalogSchema(p: Parameters): string {
    return p.add(this.schema);
  }

  markSupersededKeys(t: LoadTables): Statement[] {
    const [line, reason] = [this.quote(LINE), this.quote(REASON)];
    const p = this.parameters();
    return [
      p.statement(
        `UPDATE ${this.staging(t)} AS s SET ${reason} = ${this.supersededReason(p.add(t.keys.join(', ')))}
          FROM (${this.keepLines(t)}) AS d
          WHERE s.${line} = d.${line} AND d.${line} <> d.keep_line`,
      ),
    ];
  }

  /**
   * ON CONFLICT rather than MERGE: it runs on every PostgreSQL Cloud SQL offers (9.6+; MERGE needs 15), and it
   * is safe against a concurrent insert of the same key, which MERGE is not.
   */
  protected mergeRows(t: LoadTables, rows: string): string {
    const update = this.nonKeyColumns(t).map((n) => `${n} = EXCLUDED.${n}`);
    return `${this.insertRows(t, rows)}
          ON CONFLICT (${t.keys.map((k) => this.quote(k)).join(', ')}) DO UPDATE SET ${update.join(', ')}`;
  }
}
