// The load plan in SQL Server's T-SQL (Cloud SQL for SQL Server, Azure SQL). What shapes it: no CREATE … IF NOT
// EXISTS (an IF OBJECT_ID(…) guard instead); staging is a session temporary table (#…) whose text columns take
// the database's collation (tempdb's may differ, and a comparison across collations fails); an index key holds
// 900 bytes, so text keys are NVARCHAR(n) and longer ones are quarantined; MERGE … WITH (HOLDLOCK), because
// MERGE alone does not lock the key range it checks; parameters are named @p1, @p2, …
import type { ColumnConfig } from '../../config/schema.ts';
import { anyCause, decimalType, SqlDialect, type KeyLimits, type Parameters } from '../dialect-common.ts';
import { checkIdentifier } from '../identifiers.ts';
import { LINEAGE, STAGING_META, type LoadTables, type Statement } from '../types.ts';

/**
 * A clustered index key holds 900 bytes; NVARCHAR takes 2 bytes a character; DECIMAL(38) 17 bytes. DATALENGTH
 * counts bytes, which is what NVARCHAR(n) limits (n UTF-16 code units), trailing spaces included.
 */
const KEY_LIMITS: KeyLimits = {
  maxKeyBytes: 900,
  bytesPerChar: 2,
  bytesPerOtherKey: 17,
  lengthFunction: 'DATALENGTH',
  lengthUnitsPerChar: 2,
};
/** Object names are indexed (a nonclustered key holds 1700 bytes). */
const OBJECT_NAME_CHARS = 850;
const [LINE, REASON, RAW, RAW_HEX] = STAGING_META;
/** Errors of an object that exists already: an object (table, schema, constraint), an index, a column. */
const DUPLICATE_OBJECT = new Set([2714, 1913, 2705]);
const TEXT = 'NVARCHAR(MAX) COLLATE DATABASE_DEFAULT';

/** A name between brackets (the dialect checks identifiers first; catalog names need only this). */
export function quoteSqlServer(identifier: string): string {
  return `[${identifier.replace(/]/g, ']]')}]`;
}

export class SqlServerDialect extends SqlDialect {
  readonly engine = 'sqlserver' as const;
  readonly schema: string;
  protected readonly label = 'SQL Server';
  protected readonly now = 'SYSUTCDATETIME()';
  protected readonly auditKey = 'object_key';
  protected readonly insertsInLineOrder = true;
  protected override readonly keyLimits = KEY_LIMITS;

  constructor(schema = 'dbo') {
    super();
    this.schema = checkIdentifier(schema, 'schema');
  }

  protected placeholder(n: number): string {
    return `@p${n}`;
  }

  protected quoteName(name: string): string {
    return quoteSqlServer(name);
  }

  protected override selectFirst(rest: string): string {
    return `SELECT TOP (1) ${rest}`;
  }

  /** Unicode literals (N'…'), as the NVARCHAR columns they meet. */
  protected override text(text: string): string {
    return `N'${text}'`;
  }

  table(name: string): string {
    return `${this.quote(this.schema)}.${this.quote(name)}`;
  }

  staging(t: LoadTables): string {
    return `#${checkIdentifier(t.staging.name, 'staging table')}`;
  }

  columnType(column: ColumnConfig, t: LoadTables): string {
    switch (column.type) {
      case 'string':
        return t.keys.includes(column.name) ? `NVARCHAR(${this.keyTextLength(t)})` : 'NVARCHAR(MAX)';
      case 'integer':
        return 'BIGINT';
      case 'double':
        return 'FLOAT';
      case 'boolean':
        return 'BIT';
      case 'date':
        return 'DATE';
      case 'timestamp':
        return 'DATETIME2(6)';
      default:
        return decimalType(column, 38, 38);
    }
  }

  /**
   * The staged text as the column's type. Styles make the conversions independent of the session's language
   * and date format: 23 is yyyy-mm-dd, 126 is ISO 8601 (yyyy-mm-ddThh:mi:ss.ffffff; the UTC "Z" is dropped,
   * as PostgreSQL's TIMESTAMP drops it). BIT takes 'true'/'false'.
   */
  protected cast(column: ColumnConfig, t: LoadTables, value?: string): string {
    const v = value ?? this.quote(column.name);
    switch (column.type) {
      case 'string':
        return t.keys.includes(column.name) ? `CAST(${v} AS NVARCHAR(${this.keyTextLength(t)}))` : v;
      case 'date':
        return `CONVERT(DATE, ${v}, 23)`;
      case 'timestamp':
        return `CONVERT(DATETIME2(6), REPLACE(${v}, N'Z', N''), 126)`;
      default:
        return `CAST(${v} AS ${this.columnType(column, t)})`;
    }
  }

  ensureTables(t: LoadTables): string[] {
    const q = (n: string) => this.quote(n);
    const ifMissing = (name: string) => `IF OBJECT_ID(N'${this.table(name)}', N'U') IS NULL`;
    const columns = t.columns.map(
      (c) => `${q(c.name)} ${this.columnType(c, t)}${c.nullable ? ' NULL' : ' NOT NULL'}`,
    );
    const key = t.mode === 'merge' ? [`PRIMARY KEY (${t.keys.map(q).join(', ')})`] : [];
    return [
      `IF SCHEMA_ID(N'${this.schema}') IS NULL EXEC(N'CREATE SCHEMA ${q(this.schema)}')`,
      `${ifMissing(t.target)} CREATE TABLE ${this.table(t.target)} (${[
        ...columns,
        `${q(LINEAGE[0])} NVARCHAR(${OBJECT_NAME_CHARS}) NOT NULL`,
        `${q(LINEAGE[1])} BIGINT NOT NULL`,
        ...key,
      ].join(', ')})`,
      `IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'lakehouse_source_object' AND object_id = OBJECT_ID(N'${this.table(t.target)}'))
        CREATE INDEX ${q('lakehouse_source_object')} ON ${this.table(t.target)} (${q(LINEAGE[0])})`,
      `${ifMissing(t.audit)} CREATE TABLE ${this.table(t.audit)} (
        id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY, object_key CHAR(64) NOT NULL UNIQUE,
        dataset NVARCHAR(255) NOT NULL, target_table NVARCHAR(255) NOT NULL,
        bucket NVARCHAR(2048) NOT NULL, object_name NVARCHAR(1024) NOT NULL, generation NVARCHAR(64) NOT NULL, md5 NVARCHAR(64) NOT NULL, size BIGINT NOT NULL,
        rows_in BIGINT NULL, rows_loaded BIGINT NULL, rows_quarantined BIGINT NULL, rows_replaced BIGINT NULL, blank_lines BIGINT NULL,
        run_id NVARCHAR(255) NOT NULL, loaded_at DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME())`,
      `${ifMissing(t.quarantine)} CREATE TABLE ${this.table(t.quarantine)} (
        id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
        dataset NVARCHAR(255) NOT NULL, bucket NVARCHAR(2048) NOT NULL, object_name NVARCHAR(1024) NOT NULL, generation NVARCHAR(64) NOT NULL,
        line_number BIGINT NOT NULL, raw_text NVARCHAR(MAX) NOT NULL, raw_bytes VARBINARY(MAX) NULL, reason NVARCHAR(MAX) NOT NULL,
        run_id NVARCHAR(255) NOT NULL, quarantined_at DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME())`,
    ];
  }

  createStaging(t: LoadTables): string[] {
    const q = (n: string) => this.quote(n);
    const staging = this.staging(t);
    const meta = [
      `${q(LINE)} BIGINT NOT NULL PRIMARY KEY`,
      `${q(REASON)} ${TEXT} NULL`,
      `${q(RAW)} ${TEXT} NULL`,
      `${q(RAW_HEX)} ${TEXT} NULL`,
    ];
    // A temporary table lives as long as the connection: drop the one an earlier object left.
    return [
      `IF OBJECT_ID(N'tempdb..${staging}') IS NOT NULL DROP TABLE ${staging}`,
      `CREATE TABLE ${staging} (${[...meta, ...t.columns.map((c) => `${q(c.name)} ${TEXT} NULL`)].join(', ')})`,
    ];
  }

  /** 2627: a UNIQUE or PRIMARY KEY constraint; 2601: a unique index. */
  isUniqueViolation(error: unknown): boolean {
    const number = errorNumber(error);
    return number === 2627 || number === 2601;
  }

  isDuplicateObject(error: unknown): boolean {
    return anyCause(error, (e) => DUPLICATE_OBJECT.has(Number(errorNumber(e))));
  }

  addQuarantineBytes(t: LoadTables): string {
    return `IF COL_LENGTH(N'${this.table(t.quarantine)}', N'raw_bytes') IS NULL ALTER TABLE ${this.table(t.quarantine)} ADD raw_bytes VARBINARY(MAX) NULL`;
  }

  /** Style 2: hex digits without 0x; they are ASCII, so VARCHAR holds them exactly. */
  protected fromHex(hex: string): string {
    return `CONVERT(VARBINARY(MAX), CAST(${hex} AS VARCHAR(MAX)), 2)`;
  }

  protected catalogSchema(p: Parameters): string {
    return p.add(this.schema);
  }

  markSupersededKeys(t: LoadTables): Statement[] {
    const q = (n: string) => this.quote(n);
    const p = this.parameters();
    return [
      p.statement(
        `UPDATE s SET ${q(REASON)} = ${this.supersededReason(p.add(t.keys.join(', ')))}
          FROM ${this.staging(t)} AS s JOIN (${this.keepLines(t)}) AS d ON s.${q(LINE)} = d.${q(LINE)}
          WHERE d.${q(LINE)} <> d.keep_line`,
      ),
    ];
  }

  /** MERGE … WITH (HOLDLOCK): MERGE alone does not lock the key range it checks. */
  protected mergeRows(t: LoadTables, rows: string): string {
    const names = this.targetColumns(t);
    const keys = t.keys.map((k) => this.quote(k));
    return `MERGE INTO ${this.table(t.target)} WITH (HOLDLOCK) AS t USING (${rows}) AS s
          ON ${keys.map((k) => `t.${k} = s.${k}`).join(' AND ')}
          WHEN MATCHED THEN UPDATE SET ${this.nonKeyColumns(t)
            .map((n) => `${n} = s.${n}`)
            .join(', ')}
          WHEN NOT MATCHED BY TARGET THEN INSERT (${names.join(', ')}) VALUES (${names.map((n) => `s.${n}`).join(', ')});`;
  }
}

/** The error number SQL Server sent, wherever the driver put it. */
function errorNumber(error: unknown): unknown {
  const e = error as { number?: unknown; originalError?: { info?: { number?: unknown } } } | undefined;
  return e?.number ?? e?.originalError?.info?.number;
}
