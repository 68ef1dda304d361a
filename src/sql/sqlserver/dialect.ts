// The load plan in SQL Server's T-SQL (Cloud SQL for SQL Server, Azure SQL). What shapes it: no CREATE … IF NOT
// EXISTS (an IF OBJECT_ID(…) guard instead); staging is a session temporary table (#…) whose text columns take
// the database's collation (tempdb's may differ, and a comparison across collations fails); an index key holds
// 900 bytes, so text keys are NVARCHAR(n) and longer ones are quarantined; MERGE … WITH (HOLDLOCK), because
// MERGE alone does not lock the key range it checks; parameters are named @p1, @p2, …
import type { ColumnConfig } from '../../config/schema.ts';
import { decimalType, keyColumn, keyTextLength, objectKey, type IndexLimits } from '../dialect-common.ts';
import { checkIdentifier } from '../identifiers.ts';
import {
  LINEAGE,
  STAGING_META,
  type AuditCounts,
  type AuditRecord,
  type LoadDialect,
  type LoadTables,
  type RowCheck,
  type Statement,
} from '../types.ts';

/** A clustered index key holds 900 bytes; NVARCHAR takes 2 bytes a character; DECIMAL(38) 17 bytes. */
const INDEX_LIMITS: IndexLimits = { maxKeyBytes: 900, bytesPerChar: 2, bytesPerOtherKey: 17 };
/** Object names are indexed (a nonclustered key holds 1700 bytes). */
const OBJECT_NAME_CHARS = 850;
const [LINE, REASON, RAW] = STAGING_META;
const TEXT = 'NVARCHAR(MAX) COLLATE DATABASE_DEFAULT';

export class SqlServerDialect implements LoadDialect {
  readonly engine = 'sqlserver' as const;
  readonly schema: string;

  constructor(schema = 'dbo') {
    this.schema = checkIdentifier(schema, 'schema');
  }

  quote(identifier: string): string {
    return `[${checkIdentifier(identifier, 'identifier').replace(/]/g, ']]')}]`;
  }

  table(name: string): string {
    return `${this.quote(this.schema)}.${this.quote(name)}`;
  }

  staging(t: LoadTables): string {
    return `#${checkIdentifier(t.staging.name, 'staging table')}`;
  }

  keyTextLength(t: LoadTables): number {
    return keyTextLength(t, INDEX_LIMITS);
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
  cast(column: ColumnConfig, t: LoadTables): string {
    const v = this.quote(column.name);
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
        line_number BIGINT NOT NULL, raw_text NVARCHAR(MAX) NOT NULL, reason NVARCHAR(MAX) NOT NULL,
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
    ];
    // A temporary table lives as long as the connection: drop the one an earlier object left.
    return [
      `IF OBJECT_ID(N'tempdb..${staging}') IS NOT NULL DROP TABLE ${staging}`,
      `CREATE TABLE ${staging} (${[...meta, ...t.columns.map((c) => `${q(c.name)} ${TEXT} NULL`)].join(', ')})`,
    ];
  }

  lastLoad(t: LoadTables, bucket: string, objectName: string): Statement {
    return {
      sql: `SELECT TOP (1) md5, generation, loaded_at FROM ${this.table(t.audit)} WHERE bucket = @p1 AND object_name = @p2 AND rows_in IS NOT NULL ORDER BY id DESC`,
      params: [bucket, objectName],
    };
  }

  insertAudit(t: LoadTables, r: AuditRecord): Statement {
    return {
      sql: `INSERT INTO ${this.table(t.audit)} (object_key, dataset, target_table, bucket, object_name, generation, md5, size, run_id) VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9)`,
      params: [
        objectKey(r),
        r.dataset,
        r.target,
        r.bucket,
        r.objectName,
        r.generation,
        r.md5,
        r.size,
        r.runId,
      ],
    };
  }

  /** 2627: a UNIQUE or PRIMARY KEY constraint; 2601: a unique index. */
  isUniqueViolation(error: unknown): boolean {
    const e = error as { number?: unknown; originalError?: { info?: { number?: unknown } } } | undefined;
    const number = e?.number ?? e?.originalError?.info?.number;
    return number === 2627 || number === 2601;
  }

  finishAudit(t: LoadTables, r: AuditRecord, c: AuditCounts): Statement {
    return {
      sql: `UPDATE ${this.table(t.audit)} SET rows_in = @p1, rows_loaded = @p2, rows_quarantined = @p3, rows_replaced = @p4, blank_lines = @p5, loaded_at = SYSUTCDATETIME() WHERE object_key = @p6`,
      params: [c.rowsIn, c.rowsLoaded, c.rowsQuarantined, c.rowsReplaced, c.blankLines, objectKey(r)],
    };
  }

  deleteObjectRows(t: LoadTables, objectName: string): Statement {
    return {
      sql: `DELETE FROM ${this.table(t.target)} WHERE ${this.quote(LINEAGE[0])} = @p1`,
      params: [objectName],
    };
  }

  deleteObjectQuarantine(t: LoadTables, bucket: string, objectName: string): Statement {
    return {
      sql: `DELETE FROM ${this.table(t.quarantine)} WHERE bucket = @p1 AND object_name = @p2`,
      params: [bucket, objectName],
    };
  }

  markInvalidRows(t: LoadTables): RowCheck[] {
    if (t.mode !== 'merge') return [];
    const q = (n: string) => this.quote(n);
    const length = this.keyTextLength(t);
    // DATALENGTH counts bytes, which is what NVARCHAR(n) limits (n UTF-16 code units), trailing spaces included.
    return t.columns
      .filter((c) => t.keys.includes(c.name) && c.type === 'string')
      .map((c) => ({
        problem: `bad value in ${c.source ?? c.name}`,
        statement: {
          sql: `UPDATE ${this.staging(t)} SET ${q(REASON)} = @p1 WHERE ${q(REASON)} IS NULL AND DATALENGTH(${q(c.name)}) > @p2`,
          params: [
            `${c.source ?? c.name}: longer than ${length} characters, the most a key column holds in SQL Server`,
            length * 2,
          ],
        },
      }));
  }

  markSupersededKeys(t: LoadTables): Statement[] {
    const q = (n: string) => this.quote(n);
    const staging = this.staging(t);
    // Keys compare as the target compares them (1.5 = 1.50 as a decimal), so partition on the cast values.
    const keys = t.keys.map((k) => this.cast(keyColumn(t, k), t)).join(', ');
    return [
      {
        sql: `UPDATE s SET ${q(REASON)} = CONCAT(N'duplicate key (', @p1, N'): superseded by line ', d.keep_line)
          FROM ${staging} AS s JOIN (SELECT ${q(LINE)}, MAX(${q(LINE)}) OVER (PARTITION BY ${keys}) AS keep_line
            FROM ${staging} WHERE ${q(REASON)} IS NULL) AS d ON s.${q(LINE)} = d.${q(LINE)}
          WHERE d.${q(LINE)} <> d.keep_line`,
        params: [t.keys.join(', ')],
      },
    ];
  }

  applyRows(t: LoadTables, objectName: string): Statement[] {
    const q = (n: string) => this.quote(n);
    const names = [...t.columns.map((c) => q(c.name)), q(LINEAGE[0]), q(LINEAGE[1])];
    const typed = t.columns.map((c) => `${this.cast(c, t)} AS ${q(c.name)}`);
    const source = `SELECT ${[...typed, `@p1 AS ${q(LINEAGE[0])}`, `${q(LINE)} AS ${q(LINEAGE[1])}`].join(', ')} FROM ${this.staging(t)} WHERE ${q(REASON)} IS NULL`;
    if (t.mode === 'append')
      return [
        {
          sql: `INSERT INTO ${this.table(t.target)} (${names.join(', ')}) ${source} ORDER BY ${q(LINE)}`,
          params: [objectName],
        },
      ];
    const keys = t.keys.map(q);
    const nonKeys = names.filter((n) => !keys.includes(n));
    return [
      {
        sql: `MERGE INTO ${this.table(t.target)} WITH (HOLDLOCK) AS t USING (${source}) AS s
          ON ${keys.map((k) => `t.${k} = s.${k}`).join(' AND ')}
          WHEN MATCHED THEN UPDATE SET ${nonKeys.map((n) => `${n} = s.${n}`).join(', ')}
          WHEN NOT MATCHED BY TARGET THEN INSERT (${names.join(', ')}) VALUES (${names.map((n) => `s.${n}`).join(', ')});`,
        params: [objectName],
      },
    ];
  }

  insertQuarantine(t: LoadTables, r: AuditRecord): Statement {
    const q = (n: string) => this.quote(n);
    return {
      sql: `INSERT INTO ${this.table(t.quarantine)} (dataset, bucket, object_name, generation, line_number, raw_text, reason, run_id)
        SELECT @p1, @p2, @p3, @p4, ${q(LINE)}, COALESCE(${q(RAW)}, N''), ${q(REASON)}, @p5
        FROM ${this.staging(t)} WHERE ${q(REASON)} IS NOT NULL ORDER BY ${q(LINE)}`,
      params: [r.dataset, r.bucket, r.objectName, r.generation, r.runId],
    };
  }
}
