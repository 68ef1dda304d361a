// The statements of the load plan that every engine writes alike, once, in `SqlDialect`: each engine's dialect
// (postgres/, mysql/, sqlserver/) supplies its quoting, its placeholders ($1, ?, @p1) and the few clauses that
// differ, and writes itself only what its SQL does differently (DDL, casts, superseded keys, the merge).
import crypto from 'node:crypto';
import type { ColumnConfig } from '../config/schema.ts';
import { checkIdentifier } from './identifiers.ts';
import {
  LINEAGE,
  STAGING_META,
  type AuditCounts,
  type AuditRecord,
  type LoadDialect,
  type LoadTables,
  type RowCheck,
  type SqlEngine,
  type SqlValue,
  type Statement,
} from './types.ts';

const [LINE, REASON, RAW, RAW_HEX] = STAGING_META;

/** Where an index limits key length: text keys get a length, and longer staged values are quarantined. */
export interface KeyLimits extends IndexLimits {
  /** The SQL function measuring a staged value, and what it counts per character (bytes or characters). */
  lengthFunction: string;
  lengthUnitsPerChar: number;
}

export abstract class SqlDialect implements LoadDialect {
  abstract readonly engine: SqlEngine;
  /** The engine's name in messages. */
  protected abstract readonly label: string;
  /** SQL for the current time, as the audit table stores it. */
  protected abstract readonly now: string;
  /**
   * How the audit table tells one generation of an object from another: by its own columns, or by a SHA-256 of
   * them in `object_key` where an index over those long texts is not possible.
   */
  protected abstract readonly auditKey: 'columns' | 'object_key';
  /** Whether rows go into the target in line order (an ORDER BY on INSERT … SELECT). */
  protected abstract readonly insertsInLineOrder: boolean;
  /** Undefined where text keys are not limited. */
  protected readonly keyLimits: KeyLimits | undefined = undefined;

  /** The n-th (from 1) parameter's placeholder. */
  protected abstract placeholder(n: number): string;
  /** A name between the engine's quotes (any text: the caller checks it). */
  protected abstract quoteName(name: string): string;
  /** The staged text of a column (or `value`, an expression of that text) as the column's type in the target. */
  protected abstract cast(column: ColumnConfig, t: LoadTables, value?: string): string;
  /** Merge mode: the statement that inserts `rows` (a SELECT of the good staged rows) or updates by key. */
  protected abstract mergeRows(t: LoadTables, rows: string): string;

  abstract table(name: string): string;
  abstract staging(t: LoadTables): string;
  abstract ensureTables(t: LoadTables): string[];
  abstract createStaging(t: LoadTables): string[];
  abstract isUniqueViolation(error: unknown): boolean;
  abstract isDuplicateObject(error: unknown): boolean;
  abstract markSupersededKeys(t: LoadTables): Statement[];
  abstract addQuarantineBytes(t: LoadTables): string;
  /** The bytes written in hex by the text expression `hex`. */
  protected abstract fromHex(hex: string): string;
  /** The schema the tables live in, as the information schema names it (a parameter, or the current one). */
  protected abstract catalogSchema(p: Parameters): string;

  quote(identifier: string): string {
    return this.quoteName(checkIdentifier(identifier, 'identifier'));
  }

  lastLoad(t: LoadTables, bucket: string, objectName: string): Statement {
    const p = this.parameters();
    return p.statement(
      this.selectFirst(
        `md5, generation, loaded_at FROM ${this.table(t.audit)} WHERE bucket = ${p.add(bucket)} AND object_name = ${p.add(objectName)} AND rows_in IS NOT NULL ORDER BY id DESC`,
      ),
    );
  }

  insertAudit(t: LoadTables, r: AuditRecord): Statement {
    const values: [string, SqlValue][] = [
      ...(this.auditKey === 'object_key' ? [['object_key', objectKey(r)] as [string, SqlValue]] : []),
      ['dataset', r.dataset],
      ['target_table', r.target],
      ['bucket', r.bucket],
      ['object_name', r.objectName],
      ['generation', r.generation],
      ['md5', r.md5],
      ['size', r.size],
      ['run_id', r.runId],
    ];
    const p = this.parameters();
    const columns = values.map(([column]) => column).join(', ');
    const placeholders = values.map(([, value]) => p.add(value)).join(', ');
    return p.statement(`INSERT INTO ${this.table(t.audit)} (${columns}) VALUES (${placeholders})`);
  }

  finishAudit(t: LoadTables, r: AuditRecord, c: AuditCounts): Statement {
    const p = this.parameters();
    const set = Object.entries({
      rows_in: c.rowsIn,
      rows_loaded: c.rowsLoaded,
      rows_quarantined: c.rowsQuarantined,
      rows_replaced: c.rowsReplaced,
      blank_lines: c.blankLines,
    }).map(([column, value]) => `${column} = ${p.add(value)}`);
    return p.statement(
      `UPDATE ${this.table(t.audit)} SET ${set.join(', ')}, loaded_at = ${this.now} WHERE ${this.auditIdentity(r, p)}`,
    );
  }

  claimant(t: LoadTables, r: AuditRecord): Statement {
    const p = this.parameters();
    return p.statement(`SELECT run_id FROM ${this.table(t.audit)} WHERE ${this.auditIdentity(r, p)}`);
  }

  columnExists(table: string, column: string): Statement {
    const p = this.parameters();
    return p.statement(
      `SELECT count(*) AS n FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ${this.catalogSchema(p)} AND TABLE_NAME = ${p.add(table)} AND COLUMN_NAME = ${p.add(column)}`,
    );
  }

  standingLoads(t: LoadTables, bucket: string): Statement {
    const p = this.parameters();
    const audit = this.table(t.audit);
    // A withdrawal is an audit row without an MD5 (nothing was read): its object no longer stands.
    return p.statement(
      `SELECT a.object_name, a.generation, a.md5 FROM ${audit} a
        WHERE a.bucket = ${p.add(bucket)} AND a.dataset = ${p.add(t.dataset)} AND a.target_table = ${p.add(t.target)}
          AND a.rows_in IS NOT NULL AND a.md5 <> ${this.text('')}
          AND a.id = (SELECT max(b.id) FROM ${audit} b WHERE b.bucket = a.bucket AND b.object_name = a.object_name AND b.rows_in IS NOT NULL)
        ORDER BY a.object_name`,
    );
  }

  auditRowsOf(t: LoadTables, bucket: string): Statement {
    const p = this.parameters();
    return p.statement(
      `SELECT id, object_name, generation FROM ${this.table(t.audit)} WHERE bucket = ${p.add(bucket)}`,
    );
  }

  moveAuditRow(
    t: LoadTables,
    id: string,
    r: Pick<AuditRecord, 'bucket' | 'objectName' | 'generation'>,
  ): Statement {
    const p = this.parameters();
    // Placeholders in the order of the SQL text: MySQL's are positional.
    const bucket = p.add(r.bucket);
    const key = this.auditKey === 'object_key' ? `, object_key = ${p.add(objectKey(r))}` : '';
    return p.statement(`UPDATE ${this.table(t.audit)} SET bucket = ${bucket}${key} WHERE id = ${p.add(id)}`);
  }

  moveQuarantine(t: LoadTables, from: string, to: string): Statement {
    const p = this.parameters();
    return p.statement(
      `UPDATE ${this.table(t.quarantine)} SET bucket = ${p.add(to)} WHERE bucket = ${p.add(from)}`,
    );
  }

  /** The WHERE condition naming the audit row of `r`'s object and generation. */
  private auditIdentity(r: Pick<AuditRecord, 'bucket' | 'objectName' | 'generation'>, p: Parameters): string {
    const identity: [string, SqlValue][] =
      this.auditKey === 'object_key'
        ? [['object_key', objectKey(r)]]
        : [
            ['bucket', r.bucket],
            ['object_name', r.objectName],
            ['generation', r.generation],
          ];
    return identity.map(([column, value]) => `${column} = ${p.add(value)}`).join(' AND ');
  }

  deleteObjectRows(t: LoadTables, objectName: string): Statement {
    const p = this.parameters();
    return p.statement(
      `DELETE FROM ${this.table(t.target)} WHERE ${this.quote(LINEAGE[0])} = ${p.add(objectName)}`,
    );
  }

  deleteObjectQuarantine(t: LoadTables, bucket: string, objectName: string): Statement {
    const p = this.parameters();
    return p.statement(
      `DELETE FROM ${this.table(t.quarantine)} WHERE bucket = ${p.add(bucket)} AND object_name = ${p.add(objectName)}`,
    );
  }

  /** Characters a text key column holds: as many as fit, together, in one index key (where the index limits keys). */
  keyTextLength(t: LoadTables): number {
    if (!this.keyLimits) throw new Error(`${this.label}: index keys have no length limit`);
    return keyTextLength(t, this.keyLimits);
  }

  /** Merge mode, where the index limits keys: text keys longer than the key column holds. */
  markInvalidRows(t: LoadTables): RowCheck[] {
    const limits = this.keyLimits;
    if (!limits || t.mode !== 'merge') return [];
    const q = (n: string) => this.quote(n);
    const length = this.keyTextLength(t);
    return t.columns
      .filter((c) => t.keys.includes(c.name) && c.type === 'string')
      .map((c) => {
        const p = this.parameters();
        const reason = `${c.source ?? c.name}: longer than ${length} characters, the most a key column holds in ${this.label}`;
        return {
          problem: `bad value in ${c.source ?? c.name}`,
          statement: p.statement(
            `UPDATE ${this.staging(t)} SET ${q(REASON)} = ${p.add(reason)} WHERE ${q(REASON)} IS NULL AND ${limits.lengthFunction}(${q(c.name)}) > ${p.add(length * limits.lengthUnitsPerChar)}`,
          ),
        };
      });
  }

  applyRows(t: LoadTables, objectName: string): Statement[] {
    const q = (n: string) => this.quote(n);
    const p = this.parameters();
    const typed = t.columns.map((c) => `${this.cast(c, t)} AS ${q(c.name)}`);
    const lineage = [
      `${this.textParameter(p.add(objectName))} AS ${q(LINEAGE[0])}`,
      `${q(LINE)} AS ${q(LINEAGE[1])}`,
    ];
    const rows = `SELECT ${[...typed, ...lineage].join(', ')} FROM ${this.staging(t)} WHERE ${q(REASON)} IS NULL`;
    return [p.statement(t.mode === 'append' ? this.insertRows(t, rows) : this.mergeRows(t, rows))];
  }

  insertQuarantine(t: LoadTables, r: AuditRecord): Statement {
    const q = (n: string) => this.quote(n);
    const p = this.parameters();
    return p.statement(
      `INSERT INTO ${this.table(t.quarantine)} (dataset, bucket, object_name, generation, line_number, raw_text, raw_bytes, reason, run_id)
        SELECT ${p.add(r.dataset)}, ${p.add(r.bucket)}, ${p.add(r.objectName)}, ${p.add(r.generation)}, ${q(LINE)}, COALESCE(${q(RAW)}, ${this.text('')}), ${this.fromHex(q(RAW_HEX))}, ${q(REASON)}, ${p.add(r.runId)}
        FROM ${this.staging(t)} WHERE ${q(REASON)} IS NOT NULL ORDER BY ${q(LINE)}`,
    );
  }

  /** `SELECT <rest>`, limited to the first row. */
  protected selectFirst(rest: string): string {
    return `SELECT ${rest} LIMIT 1`;
  }

  /** A string literal (`text` is the project's own, never data). */
  protected text(text: string): string {
    return `'${text}'`;
  }

  /** A parameter used as text where the engine cannot infer its type. */
  protected textParameter(placeholder: string): string {
    return placeholder;
  }

  /** The target's columns as applyRows writes them: the dataset's, then the lineage. */
  protected targetColumns(t: LoadTables): string[] {
    return [...t.columns.map((c) => this.quote(c.name)), this.quote(LINEAGE[0]), this.quote(LINEAGE[1])];
  }

  /** INSERT of the good staged rows (`rows`, from applyRows) into the target. */
  protected insertRows(t: LoadTables, rows: string): string {
    const order = this.insertsInLineOrder ? ` ORDER BY ${this.quote(LINE)}` : '';
    return `INSERT INTO ${this.table(t.target)} (${this.targetColumns(t).join(', ')}) ${rows}${order}`;
  }

  /** The target's columns that are not keys: what a merge updates. */
  protected nonKeyColumns(t: LoadTables): string[] {
    const keys = t.keys.map((k) => this.quote(k));
    return this.targetColumns(t).filter((n) => !keys.includes(n));
  }

  /**
   * Each good staged line with the last line of its key (`keep_line`). Keys compare as the target compares
   * them (1.5 = 1.50 as a decimal), so the partition is on the cast values.
   */
  protected keepLines(t: LoadTables): string {
    const q = (n: string) => this.quote(n);
    const keys = t.keys.map((k) => this.cast(keyColumn(t, k), t)).join(', ');
    return `SELECT ${q(LINE)}, MAX(${q(LINE)}) OVER (PARTITION BY ${keys}) AS keep_line
            FROM ${this.staging(t)} WHERE ${q(REASON)} IS NULL`;
  }

  /** The quarantine reason of a superseded line; `keys` is the placeholder of the key columns' names. */
  protected supersededReason(keys: string): string {
    return `CONCAT(${this.text('duplicate key (')}, ${this.textParameter(keys)}, ${this.text('): superseded by line ')}, d.keep_line)`;
  }

  protected parameters(): Parameters {
    return new Parameters((n) => this.placeholder(n));
  }
}

/** A statement's values, each handed its placeholder as the SQL text is written (so the two cannot drift). */
export class Parameters {
  private readonly values: SqlValue[] = [];
  private readonly placeholder: (n: number) => string;

  constructor(placeholder: (n: number) => string) {
    this.placeholder = placeholder;
  }

  add(value: SqlValue): string {
    this.values.push(value);
    return this.placeholder(this.values.length);
  }

  statement(sql: string): Statement {
    return { sql, params: this.values };
  }
}

/** Whether `error`, or an error it wraps (a session adds what it was doing and keeps the driver's as cause), passes `test`. */
export function anyCause(error: unknown, test: (e: Record<string, unknown>) => boolean): boolean {
  for (let e = error as Record<string, unknown> | undefined; e && typeof e === 'object';) {
    if (test(e)) return true;
    e = (e.originalError ?? e.cause) as Record<string, unknown> | undefined;
  }
  return false;
}

/** The audit row's identity: bucket, object and generation, hashed to fit a UNIQUE index. */
export function objectKey(r: Pick<AuditRecord, 'bucket' | 'objectName' | 'generation'>): string {
  return crypto.createHash('sha256').update(`${r.bucket}\n${r.objectName}\n${r.generation}`).digest('hex');
}

/** DECIMAL(p,s) within the engine's limits, or an error naming the column. */
export function decimalType(column: ColumnConfig, maxPrecision: number, maxScale: number): string {
  const match = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(column.type);
  if (!match) throw new Error(`column ${column.name}: unsupported type ${JSON.stringify(column.type)}`);
  const [precision, scale] = [Number(match[1]), Number(match[2])];
  if (precision < 1 || precision > maxPrecision || scale > Math.min(precision, maxScale))
    throw new Error(
      `column ${column.name}: expected decimal(p,s) with 1 ≤ p ≤ ${maxPrecision} and s ≤ min(p, ${maxScale}) on this engine, found ${column.type}`,
    );
  return `DECIMAL(${precision},${scale})`;
}

export interface IndexLimits {
  /** The largest index key, in bytes. */
  maxKeyBytes: number;
  /** Bytes a text character may take in the key. */
  bytesPerChar: number;
  /** Bytes kept for each key column that is not text (the widest: a DECIMAL(38) or DECIMAL(65)). */
  bytesPerOtherKey: number;
}

/** Characters each text key column holds so that all key columns fit, together, in one index key (≤ 255). */
export function keyTextLength(t: LoadTables, limits: IndexLimits): number {
  const keyColumns = t.columns.filter((c) => t.keys.includes(c.name));
  const text = keyColumns.filter((c) => c.type === 'string').length;
  const budget = limits.maxKeyBytes - (keyColumns.length - text) * limits.bytesPerOtherKey;
  return Math.min(255, Math.floor(budget / limits.bytesPerChar / Math.max(1, text)));
}

export function keyColumn(t: LoadTables, name: string): ColumnConfig {
  const column = t.columns.find((c) => c.name === name);
  if (!column)
    throw new Error(`key ${name}: expected one of the columns (${t.columns.map((c) => c.name).join(', ')})`);
  return column;
}
