// The load plan in PostgreSQL's SQL, shared by a PostgreSQL server (pg) and the embedded PGlite.
import type { ColumnConfig } from '../../config/schema.ts';
import {
  LINEAGE,
  STAGING_META,
  type AuditCounts,
  type AuditRecord,
  type LoadDialect,
  type LoadTables,
  type RowCheck,
  type SqlEngine,
  type Statement,
} from '../types.ts';
import { checkIdentifier } from '../identifiers.ts';
import { keyColumn } from '../dialect-common.ts';

export class PostgresDialect implements LoadDialect {
  readonly engine: SqlEngine;
  readonly schema: string;

  constructor(engine: 'postgres' | 'pglite', schema = 'public') {
    this.engine = engine;
    this.schema = checkIdentifier(schema, 'schema');
  }

  quote(identifier: string): string {
    return `"${checkIdentifier(identifier, 'identifier').replace(/"/g, '""')}"`;
  }

  table(name: string): string {
    return `${this.quote(this.schema)}.${this.quote(name)}`;
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
      `CREATE INDEX IF NOT EXISTS ${q(`${t.target}_source_object`)} ON ${this.table(t.target)} (${q(LINEAGE[0])})`,
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
        line_number BIGINT NOT NULL, raw_text TEXT NOT NULL, reason TEXT NOT NULL,
        run_id TEXT NOT NULL, quarantined_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      `CREATE INDEX IF NOT EXISTS ${q(`${t.quarantine}_object`)} ON ${this.table(t.quarantine)} (bucket, object_name)`,
    ];
  }

  createStaging(t: LoadTables): string[] {
    const q = (n: string) => this.quote(n);
    const meta = [
      `${q(STAGING_META[0])} BIGINT NOT NULL`,
      `${q(STAGING_META[1])} TEXT`,
      `${q(STAGING_META[2])} TEXT`,
    ];
    return [
      `CREATE TEMP TABLE ${q(t.staging.name)} (${[...meta, ...t.columns.map((c) => `${q(c.name)} TEXT`)].join(', ')}) ON COMMIT DROP`,
    ];
  }

  staging(t: LoadTables): string {
    return this.quote(t.staging.name);
  }

  /** PostgreSQL's TEXT keys have no length limit worth checking; empty keys are rejected while parsing. */
  markInvalidRows(): RowCheck[] {
    return [];
  }

  lastLoad(t: LoadTables, bucket: string, objectName: string): Statement {
    return {
      sql: `SELECT md5, generation, loaded_at FROM ${this.table(t.audit)} WHERE bucket = $1 AND object_name = $2 AND rows_in IS NOT NULL ORDER BY id DESC LIMIT 1`,
      params: [bucket, objectName],
    };
  }

  insertAudit(t: LoadTables, r: AuditRecord): Statement {
    return {
      sql: `INSERT INTO ${this.table(t.audit)} (dataset, target_table, bucket, object_name, generation, md5, size, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      params: [r.dataset, r.target, r.bucket, r.objectName, r.generation, r.md5, r.size, r.runId],
    };
  }

  isUniqueViolation(error: unknown): boolean {
    return (error as { code?: unknown } | undefined)?.code === '23505';
  }

  finishAudit(t: LoadTables, r: AuditRecord, c: AuditCounts): Statement {
    return {
      sql: `UPDATE ${this.table(t.audit)} SET rows_in = $1, rows_loaded = $2, rows_quarantined = $3, rows_replaced = $4, blank_lines = $5, loaded_at = now() WHERE bucket = $6 AND object_name = $7 AND generation = $8`,
      params: [
        c.rowsIn,
        c.rowsLoaded,
        c.rowsQuarantined,
        c.rowsReplaced,
        c.blankLines,
        r.bucket,
        r.objectName,
        r.generation,
      ],
    };
  }

  deleteObjectRows(t: LoadTables, objectName: string): Statement {
    return {
      sql: `DELETE FROM ${this.table(t.target)} WHERE ${this.quote(LINEAGE[0])} = $1`,
      params: [objectName],
    };
  }

  deleteObjectQuarantine(t: LoadTables, bucket: string, objectName: string): Statement {
    return {
      sql: `DELETE FROM ${this.table(t.quarantine)} WHERE bucket = $1 AND object_name = $2`,
      params: [bucket, objectName],
    };
  }

  markSupersededKeys(t: LoadTables): Statement[] {
    const q = (n: string) => this.quote(n);
    const [line, reason] = [q(STAGING_META[0]), q(STAGING_META[1])];
    // Keys compare as the target compares them (1.5 = 1.50 as a decimal), so partition on the cast values.
    const keys = t.keys.map((k) => `CAST(${q(k)} AS ${this.columnType(keyColumn(t, k))})`).join(', ');
    return [
      {
        sql: `UPDATE ${q(t.staging.name)} AS s SET ${reason} = 'duplicate key (' || CAST($1 AS TEXT) || '): superseded by line ' || d.keep
          FROM (SELECT ${line}, max(${line}) OVER (PARTITION BY ${keys}) AS keep FROM ${q(t.staging.name)} WHERE ${reason} IS NULL) AS d
          WHERE s.${line} = d.${line} AND d.${line} <> d.keep`,
        params: [t.keys.join(', ')],
      },
    ];
  }

  applyRows(t: LoadTables, objectName: string): Statement[] {
    const q = (n: string) => this.quote(n);
    const names = [...t.columns.map((c) => q(c.name)), q(LINEAGE[0]), q(LINEAGE[1])];
    const typed = t.columns.map((c) => `CAST(${q(c.name)} AS ${this.columnType(c)}) AS ${q(c.name)}`);
    const source = `SELECT ${[...typed, `CAST($1 AS TEXT) AS ${q(LINEAGE[0])}`, `${q(STAGING_META[0])} AS ${q(LINEAGE[1])}`].join(', ')} FROM ${q(t.staging.name)} WHERE ${q(STAGING_META[1])} IS NULL`;
    if (t.mode === 'append')
      return [
        { sql: `INSERT INTO ${this.table(t.target)} (${names.join(', ')}) ${source}`, params: [objectName] },
      ];
    const nonKeys = names.filter((n) => !t.keys.map(q).includes(n));
    return [
      {
        // ON CONFLICT rather than MERGE: it runs on every PostgreSQL Cloud SQL offers (9.6+; MERGE needs 15), and
        // it is safe against a concurrent insert of the same key, which MERGE is not.
        sql: `INSERT INTO ${this.table(t.target)} (${names.join(', ')}) ${source}
          ON CONFLICT (${t.keys.map(q).join(', ')}) DO UPDATE SET ${nonKeys.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}`,
        params: [objectName],
      },
    ];
  }

  insertQuarantine(t: LoadTables, r: AuditRecord): Statement {
    const q = (n: string) => this.quote(n);
    return {
      sql: `INSERT INTO ${this.table(t.quarantine)} (dataset, bucket, object_name, generation, line_number, raw_text, reason, run_id)
        SELECT $1, $2, $3, $4, ${q(STAGING_META[0])}, coalesce(${q(STAGING_META[2])}, ''), ${q(STAGING_META[1])}, $5
        FROM ${q(t.staging.name)} WHERE ${q(STAGING_META[1])} IS NOT NULL ORDER BY ${q(STAGING_META[0])}`,
      params: [r.dataset, r.bucket, r.objectName, r.generation, r.runId],
    };
  }
}
