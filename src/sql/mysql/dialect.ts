// The load plan in MySQL's SQL (MySQL 8 on Cloud SQL; MariaDB 10.11 on the test machine). Differences from
// PostgreSQL that shape it: an indexed text column needs a length (keys are VARCHAR, limited to what InnoDB can
// index, longer keys are quarantined); temporary tables survive a rollback (so staging is dropped first) and
// cannot be opened twice in one statement (so superseded keys go through a second temporary table); there is no
// MERGE (INSERT … ON DUPLICATE KEY UPDATE); and the audit row's identity is a SHA-256 of bucket, object and
// generation, because a UNIQUE index over those long texts is not possible.
import type { ColumnConfig } from '../../config/schema.ts';
import { checkIdentifier } from '../identifiers.ts';
import { decimalType, keyColumn, keyTextLength, objectKey, type IndexLimits } from '../dialect-common.ts';
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

/** InnoDB's largest index key (DYNAMIC rows); utf8mb4 takes up to 4 bytes a character; DECIMAL(65) 30 bytes. */
const INDEX_LIMITS: IndexLimits = { maxKeyBytes: 3072, bytesPerChar: 4, bytesPerOtherKey: 30 };
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
const [LINE, REASON, RAW] = STAGING_META;

export class MysqlDialect implements LoadDialect {
  readonly engine = 'mysql' as const;
  /** The database the tables live in; the connection's own database when undefined. */
  readonly schema: string | undefined;

  constructor(schema?: string) {
    this.schema = schema === undefined ? undefined : checkIdentifier(schema, 'schema');
  }

  quote(identifier: string): string {
    return `\`${checkIdentifier(identifier, 'identifier').replace(/`/g, '``')}\``;
  }

  table(name: string): string {
    return this.schema ? `${this.quote(this.schema)}.${this.quote(name)}` : this.quote(name);
  }

  /** Qualified like the other tables: a temporary table lives in a database too, and there may be no current one. */
  staging(t: LoadTables): string {
    return this.table(t.staging.name);
  }

  /** Characters a text key column holds: as many as fit, together, in one index key. */
  keyTextLength(t: LoadTables): number {
    return keyTextLength(t, INDEX_LIMITS);
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
  cast(column: ColumnConfig): string {
    const v = this.quote(column.name);
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
        line_number BIGINT NOT NULL, raw_text MEDIUMTEXT NOT NULL, reason TEXT NOT NULL,
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
    ];
    // A temporary table outlives a rollback (its DDL is not transactional): drop what a failed load left.
    return [
      `DROP TEMPORARY TABLE IF EXISTS ${this.staging(t)}`,
      `DROP TEMPORARY TABLE IF EXISTS ${this.table(keepTable(t))}`,
      `CREATE TEMPORARY TABLE ${this.staging(t)} (${[...meta, ...t.columns.map((c) => `${q(c.name)} MEDIUMTEXT NULL`)].join(', ')}) ${TABLE_OPTIONS}`,
    ];
  }

  lastLoad(t: LoadTables, bucket: string, objectName: string): Statement {
    return {
      sql: `SELECT md5, generation, loaded_at FROM ${this.table(t.audit)} WHERE bucket = ? AND object_name = ? AND rows_in IS NOT NULL ORDER BY id DESC LIMIT 1`,
      params: [bucket, objectName],
    };
  }

  insertAudit(t: LoadTables, r: AuditRecord): Statement {
    return {
      sql: `INSERT INTO ${this.table(t.audit)} (object_key, dataset, target_table, bucket, object_name, generation, md5, size, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

  isUniqueViolation(error: unknown): boolean {
    return (error as { errno?: unknown } | undefined)?.errno === 1062;
  }

  finishAudit(t: LoadTables, r: AuditRecord, c: AuditCounts): Statement {
    return {
      sql: `UPDATE ${this.table(t.audit)} SET rows_in = ?, rows_loaded = ?, rows_quarantined = ?, rows_replaced = ?, blank_lines = ?, loaded_at = CURRENT_TIMESTAMP(6) WHERE object_key = ?`,
      params: [c.rowsIn, c.rowsLoaded, c.rowsQuarantined, c.rowsReplaced, c.blankLines, objectKey(r)],
    };
  }

  deleteObjectRows(t: LoadTables, objectName: string): Statement {
    return {
      sql: `DELETE FROM ${this.table(t.target)} WHERE ${this.quote(LINEAGE[0])} = ?`,
      params: [objectName],
    };
  }

  deleteObjectQuarantine(t: LoadTables, bucket: string, objectName: string): Statement {
    return {
      sql: `DELETE FROM ${this.table(t.quarantine)} WHERE bucket = ? AND object_name = ?`,
      params: [bucket, objectName],
    };
  }

  markInvalidRows(t: LoadTables): RowCheck[] {
    if (t.mode !== 'merge') return [];
    const q = (n: string) => this.quote(n);
    const length = this.keyTextLength(t);
    return t.columns
      .filter((c) => t.keys.includes(c.name) && c.type === 'string')
      .map((c) => ({
        problem: `bad value in ${c.source ?? c.name}`,
        statement: {
          sql: `UPDATE ${this.staging(t)} SET ${q(REASON)} = ? WHERE ${q(REASON)} IS NULL AND CHAR_LENGTH(${q(c.name)}) > ?`,
          params: [
            `${c.source ?? c.name}: longer than ${length} characters, the most a key column holds in MySQL`,
            length,
          ],
        },
      }));
  }

  markSupersededKeys(t: LoadTables): Statement[] {
    const q = (n: string) => this.quote(n);
    // Keys compare as the target compares them (1.5 = 1.50 as a decimal), so partition on the cast values.
    const keys = t.keys.map((k) => this.cast(keyColumn(t, k))).join(', ');
    return [
      {
        sql: `CREATE TEMPORARY TABLE ${this.table(keepTable(t))} (PRIMARY KEY (${q(LINE)})) ENGINE=InnoDB AS
          SELECT ${q(LINE)}, max(${q(LINE)}) OVER (PARTITION BY ${keys}) AS keep_line
          FROM ${this.staging(t)} WHERE ${q(REASON)} IS NULL`,
        params: [],
      },
      {
        sql: `UPDATE ${this.staging(t)} AS s JOIN ${this.table(keepTable(t))} AS d ON s.${q(LINE)} = d.${q(LINE)}
          SET s.${q(REASON)} = CONCAT('duplicate key (', ?, '): superseded by line ', d.keep_line)
          WHERE d.${q(LINE)} <> d.keep_line`,
        params: [t.keys.join(', ')],
      },
    ];
  }

  applyRows(t: LoadTables, objectName: string): Statement[] {
    const q = (n: string) => this.quote(n);
    const names = [...t.columns.map((c) => q(c.name)), q(LINEAGE[0]), q(LINEAGE[1])];
    const values = [...t.columns.map((c) => this.cast(c)), '?', q(LINE)];
    const insert = `INSERT INTO ${this.table(t.target)} (${names.join(', ')}) SELECT ${values.join(', ')} FROM ${this.staging(t)} WHERE ${q(REASON)} IS NULL ORDER BY ${q(LINE)}`;
    if (t.mode === 'append') return [{ sql: insert, params: [objectName] }];
    const nonKeys = names.filter((n) => !t.keys.map(q).includes(n));
    return [
      {
        sql: `${insert} ON DUPLICATE KEY UPDATE ${nonKeys.map((n) => `${n} = VALUES(${n})`).join(', ')}`,
        params: [objectName],
      },
    ];
  }

  insertQuarantine(t: LoadTables, r: AuditRecord): Statement {
    const q = (n: string) => this.quote(n);
    return {
      sql: `INSERT INTO ${this.table(t.quarantine)} (dataset, bucket, object_name, generation, line_number, raw_text, reason, run_id)
        SELECT ?, ?, ?, ?, ${q(LINE)}, COALESCE(${q(RAW)}, ''), ${q(REASON)}, ?
        FROM ${this.staging(t)} WHERE ${q(REASON)} IS NOT NULL ORDER BY ${q(LINE)}`,
      params: [r.dataset, r.bucket, r.objectName, r.generation, r.runId],
    };
  }
}

function keepTable(t: LoadTables): string {
  return `${t.staging.name}_keep`;
}
