// The load plan in MySQL's SQL (MySQL 8 on Cloud SQL; MariaDB 10.11 on the test machine). Differences from
// PostgreSQL that shape it: an indexed text column needs a length (keys are VARCHAR, limited to what InnoDB can
// index, longer keys are quarantined); temporary tables survive a rollback (so staging is dropped first) and
// cannot be opened twice in one statement (so superseded keys go through a second temporary table); there is no
// MERGE (INSERT … ON DUPLICATE KEY UPDATE); and the audit row's identity is a SHA-256 of bucket, object and
// generation, because a UNIQUE index over those long texts is not possible.
import type { ColumnConfig } from '../../config/schema.ts';
import { anyCause, decimalType, SqlDialect, type KeyLimits, type Parameters } from '../dialect-common.ts';
import { checkIdentifier } from '../identifiers.ts';
import { LINEAGE, STAGING_META, type LoadTables, type Statement } from '../types.ts';

/** InnoDB's largest index key (DYNAMIC rows); utf8mb4 takes up to 4 bytes a character; DECIMAL(65) 30 bytes. */
const KEY_LIMITS: KeyLimits = {
  maxKeyBytes: 3072,
  bytesPerChar: 4,
  bytesPerOtherKey: 30,
  lengthFunction: 'CHAR_LENGTH',
  lengthUnitsPerChar: 1,
};
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
const [LINE, REASON, RAW, RAW_HEX] = STAGING_META;
/** Errors of an object that exists already: a table, a database, an index name, a column. */
const DUPLICATE_OBJECT = new Set([1050, 1007, 1061, 1060]);

/** A name between backticks (the dialect checks identifiers first; catalog names need only this). */
export function quoteMysql(identifier: string): string {
  return `\`${identifier.replace(/`/g, '``')}\``;
}

export class MysqlDialect extends SqlDialect {
  readonly engine = 'mysql' as const;
  /** The database the tables live in; the connection's own database when undefined. */
  readonly schema: string | undefined;
  protected readonly label = 'MySQL';
  protected readonly now = 'CURRENT_TIMESTAMP(6)';
  protected readonly auditKey = 'object_key';
  protected readonly insertsInLineOrder = true;
  protected override readonly keyLimits = KEY_LIMITS;

  constructor(schema?: string) {
    super();
    this.schema = schema === undefined ? undefined : checkIdentifier(schema, 'schema');
  }

  protected placeholder(): string {
    return '?';
  }

  protected quoteName(name: string): string {
    return quoteMysql(name);
  }

  table(name: string): string {
    return this.schema ? `${this.quote(this.schema)}.${this.quote(name)}` : this.quote(name);
  }

  /** Qualified like the other tables: a temporary table lives in a database too, and there may be no current one. */
  staging(t: LoadTables): string {
    return this.table(t.staging.name);
  }

  columnType(column: ColumnConfig, t: LoadTables): string {
    switch (column.type) {
      case 'string':
        return t.keys.includes(column.name) ? `VARCHAR(${this.keyTextLength(t)})` : 'MEDIUMTEXT';
      case 'integer':
        return 'BIGINT';
      case 'double':
        return 'DOUBLE';
      case 'boolean':
        return 'BOOLEAN';
      case 'date':
        return 'DATE';
      case 'timestamp':
        return 'DATETIME(6)';
      default:
        return decimalType(column, 65, 30);
    }
  }

  /** The staged text as the column's type; the text was normalised while parsing, so every cast succeeds. */
  protected cast(column: ColumnConfig, _t?: LoadTables, value?: string): string {
    const v = value ?? this.quote(column.name);
    switch (column.type) {
      case 'string':
        return v;
      case 'integer':
        return `CAST(${v} AS SIGNED)`;
      case 'double':
        return `CAST(${v} AS DOUBLE)`;
      case 'boolean':
        return `CASE ${v} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END`;
      case 'date':
        return `CAST(${v} AS DATE)`;
      case 'timestamp':
        return `CAST(REPLACE(REPLACE(${v}, 'T', ' '), 'Z', '') AS DATETIME(6))`;
      default:
        return `CAST(${v} AS ${decimalType(column, 65, 30)})`;
    }
  }

  /**
   * Append mode: the target's columns (the dataset's, then the lineage), each with the expression that casts
   * the `i`-th field of a row into it, as applyRows casts the staged text.
   */
  appendColumns(t: LoadTables, field: (i: number) => string): { columns: string[]; values: string[] } {
    const values = t.columns.map((c, i) => this.cast(c, t, field(i)));
    values.push(field(t.columns.length), field(t.columns.length + 1));
    return { columns: this.targetColumns(t), values };
  }

  ensureTables(t: LoadTables): string[] {
    const q = (n: string) => this.quote(n);
    const columns = t.columns.map(
      (c) => `${q(c.name)} ${this.columnType(c, t)}${c.nullable ? '' : ' NOT NULL'}`,
    );
    const key = t.mode === 'merge' ? [`PRIMARY KEY (${t.keys.map(q).join(', ')})`] : [];
    const database = this.schema ? [`CREATE DATABASE IF NOT EXISTS ${q(this.schema)}`] : [];
    return [
      ...database,
      `CREATE TABLE IF NOT EXISTS ${this.table(t.target)} (${[
        ...columns,
        `${q(LINEAGE[0])} VARCHAR(1024) NOT NULL`,
        `${q(LINEAGE[1])} BIGINT NOT NULL`,
        ...key,
        `INDEX ${q('lakehouse_source_object')} (${q(LINEAGE[0])}(255))`,
      ].join(', ')}) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS ${this.table(t.audit)} (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, object_key CHAR(64) CHARACTER SET ascii NOT NULL,
        dataset VARCHAR(255) NOT NULL, target_table VARCHAR(255) NOT NULL,
        bucket TEXT NOT NULL, object_name TEXT NOT NULL, generation VARCHAR(64) NOT NULL, md5 VARCHAR(64) NOT NULL, size BIGINT NOT NULL,
        rows_in BIGINT NULL, rows_loaded BIGINT NULL, rows_quarantined BIGINT NULL, rows_replaced BIGINT NULL, blank_lines BIGINT NULL,
        run_id VARCHAR(255) NOT NULL, loaded_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        UNIQUE KEY lakehouse_object (object_key), KEY lakehouse_object_name (object_name(255))) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS ${this.table(t.quarantine)} (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        dataset VARCHAR(255) NOT NULL, bucket TEXT NOT NULL, object_name TEXT NOT NULL, generation VARCHAR(64) NOT NULL,
        line_number BIGINT NOT NULL, raw_text MEDIUMTEXT NOT NULL, raw_bytes LONGBLOB NULL, reason TEXT NOT NULL,
        run_id VARCHAR(255) NOT NULL, quarantined_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        KEY lakehouse_object_name (object_name(255))) ${TABLE_OPTIONS}`,
    ];
  }

  createStaging(t: LoadTables): string[] {
    const q = (n: string) => this.quote(n);
    const meta = [
      `${q(LINE)} BIGINT NOT NULL PRIMARY KEY`,
      `${q(REASON)} TEXT NULL`,
      `${q(RAW)} MEDIUMTEXT NULL`,
      `${q(RAW_HEX)} MEDIUMTEXT NULL`,
    ];
    // A temporary table outlives a rollback (its DDL is not transactional): drop what a failed load left.
    return [
      `DROP TEMPORARY TABLE IF EXISTS ${this.staging(t)}`,
      `DROP TEMPORARY TABLE IF EXISTS ${this.table(keepTable(t))}`,
      `CREATE TEMPORARY TABLE ${this.staging(t)} (${[...meta, ...t.columns.map((c) => `${q(c.name)} MEDIUMTEXT NULL`)].join(', ')}) ${TABLE_OPTIONS}`,
    ];
  }

  isUniqueViolation(error: unknown): boolean {
    return (error as { errno?: unknown } | undefined)?.errno === 1062;
  }

  isDuplicateObject(error: unknown): boolean {
    return anyCause(error, (e) => DUPLICATE_OBJECT.has(Number(e.errno)));
  }

  /** MySQL 8 has no ADD COLUMN IF NOT EXISTS: the caller checks first, and takes a duplicate column as done. */
  addQuarantineBytes(t: LoadTables): string {
    return `ALTER TABLE ${this.table(t.quarantine)} ADD COLUMN raw_bytes LONGBLOB NULL AFTER raw_text`;
  }

  protected fromHex(hex: string): string {
    return `UNHEX(${hex})`;
  }

  protected catalogSchema(p: Parameters): string {
    return this.schema ? p.add(this.schema) : 'DATABASE()';
  }

  /** Through a second temporary table: MySQL cannot open staging twice in one statement. */
  markSupersededKeys(t: LoadTables): Statement[] {
    const q = (n: string) => this.quote(n);
    const p = this.parameters();
    return [
      {
        sql: `CREATE TEMPORARY TABLE ${this.table(keepTable(t))} (PRIMARY KEY (${q(LINE)})) ENGINE=InnoDB AS
          ${this.keepLines(t)}`,
        params: [],
      },
      p.statement(
        `UPDATE ${this.staging(t)} AS s JOIN ${this.table(keepTable(t))} AS d ON s.${q(LINE)} = d.${q(LINE)}
          SET s.${q(REASON)} = ${this.supersededReason(p.add(t.keys.join(', ')))}
          WHERE d.${q(LINE)} <> d.keep_line`,
      ),
    ];
  }

  protected mergeRows(t: LoadTables, rows: string): string {
    const update = this.nonKeyColumns(t).map((n) => `${n} = VALUES(${n})`);
    return `${this.insertRows(t, rows)} ON DUPLICATE KEY UPDATE ${update.join(', ')}`;
  }
}

function keepTable(t: LoadTables): string {
  return `${t.staging.name}_keep`;
}
