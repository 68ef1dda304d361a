// MySQL (Cloud SQL) and MariaDB through `mysql2`. Staging is filled with LOAD DATA LOCAL INFILE streamed from
// the parser when the server allows it (local_infile=ON), otherwise with batched multi-row INSERTs (prepared
// statements: values travel as parameters). bench/load.mjs measures both.
import { Readable } from 'node:stream';
import type { Connection as CallbackConnection } from 'mysql2';
import mysql from 'mysql2/promise';
import type { SqlTargetConfig } from '../../config/schema.ts';
import { appendPlainValues, csvChunks } from '../csv-line.ts';
import { MysqlDialect } from './dialect.ts';
import {
  describeServer,
  NetworkSession,
  opener,
  parseUrl,
  protect,
  type RunResult,
  type SessionOptions,
} from '../network-session.ts';
import { textRowsToCsv } from '../export-common.ts';
import { findMysqlTable, mysqlExportQuery, type MysqlTable } from './export.ts';
import type { LoadTables, RowBatches, SqlValue, StagingTable, TableName } from '../types.ts';

type MysqlTarget = Extract<SqlTargetConfig, { engine: 'mysql' }>;
export type MysqlBulkPath = 'load-data' | 'insert';

export interface MysqlSessionOptions extends SessionOptions {
  /** Force a bulk path; by default LOAD DATA where the server allows it. */
  bulkPath?: MysqlBulkPath;
}

/** Rows the export's stream buffers before it pauses the connection. */
const EXPORT_BUFFER_ROWS = 1000;
/** MySQL's limit on placeholders in one prepared statement. */
const MAX_PLACEHOLDERS = 65_535;
/** Bytes of values per INSERT, well under the default max_allowed_packet (16–64 MB). */
const INSERT_BATCH_BYTES = 4 * 1024 * 1024;
/** How the bulk CSV (csv-line.ts) reads: every value quoted, NULL the unquoted word. */
const LOAD_DATA_FORMAT = `CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '\\n'`;
/** The session variable an append's LOAD DATA takes the object name from. */
const OBJECT_VARIABLE = '@lakehouse_object';
/** Strict: a value that does not fit is an error, never a silent truncation. */
const SQL_MODE =
  'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

export class MysqlSession extends NetworkSession<mysql.Connection, MysqlTable> {
  readonly engine = 'mysql' as const;
  readonly dialect: MysqlDialect;
  private readonly config: mysql.ConnectionOptions;
  private readonly bulkPathOption: MysqlBulkPath | undefined;
  /** The path the last bulk load took (for the benchmark and the logs). */
  bulkPath: MysqlBulkPath | undefined;

  constructor(target: MysqlTarget, options: MysqlSessionOptions = {}) {
    const config = connectionOptions(target);
    super(describeServer('MySQL', config), options);
    this.config = config;
    this.bulkPathOption = options.bulkPath;
    this.dialect = new MysqlDialect(target.schema);
  }

  protected async connect(): Promise<mysql.Connection> {
    const connection = await mysql.createConnection(this.config);
    connection.on('error', () => this.markLost());
    try {
      await connection.query(`SET time_zone = '+00:00', sql_mode = '${SQL_MODE}'`);
      if (!this.bulkPathOption) {
        const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT @@local_infile AS local_infile');
        this.bulkPath = Number(rows[0]?.local_infile) === 1 ? 'load-data' : 'insert';
      } else this.bulkPath = this.bulkPathOption;
    } catch (e) {
      connection.destroy();
      throw e;
    }
    return connection;
  }

  protected async disconnect(connection: mysql.Connection): Promise<void> {
    await connection.end().catch(() => connection.destroy());
  }

  protected async run(connection: mysql.Connection, sql: string, params: SqlValue[]): Promise<RunResult> {
    // Statements with values are prepared (the values never enter the SQL text); DDL runs as text.
    const [result] = params.length
      ? await connection.execute(sql, params as mysql.ExecuteValues)
      : await connection.query(sql);
    if (Array.isArray(result)) return { rows: result as Record<string, unknown>[], count: result.length };
    return { rows: [], count: (result as mysql.ResultSetHeader).affectedRows };
  }

  protected async startTransaction(connection: mysql.Connection): Promise<void> {
    await connection.beginTransaction();
  }

  protected async endTransaction(
    connection: mysql.Connection,
    outcome: 'commit' | 'rollback',
  ): Promise<void> {
    await (outcome === 'commit' ? connection.commit() : connection.rollback());
  }

  protected async copy(connection: mysql.Connection, table: StagingTable, rows: RowBatches): Promise<number> {
    const q = (n: string) => this.dialect.quote(n);
    const into = `${this.dialect.table(table.name)}`;
    const columns = table.columns.map(q).join(', ');
    const tuple = `(${Array(table.columns.length).fill('?').join(', ')})`;
    return this.bulkPath === 'insert'
      ? this.insertBatches(connection, `INSERT INTO ${into} (${columns}) VALUES `, tuple, rows)
      : this.loadData(connection, `${into} ${LOAD_DATA_FORMAT} (${columns})`, rows);
  }

  /**
   * Append mode: each row's fields cast into the target's columns by the statement itself (see appendColumns).
   * LOAD DATA takes the object name, the same in every row, once, as a user variable: the rows go without it,
   * which spares the server parsing it a million times (about a fifth of the time of a load, measured).
   */
  async appendRows(t: LoadTables, rows: RowBatches, objectName: string): Promise<number> {
    return this.withConnection('bulk load', async (connection) => {
      const into = this.dialect.table(t.target);
      if (this.bulkPath === 'insert') {
        const { columns, values } = this.dialect.appendColumns(t, () => '?');
        const head = `INSERT INTO ${into} (${columns.join(', ')}) VALUES `;
        return this.insertBatches(connection, head, `(${values.join(', ')})`, rows);
      }
      const objectAt = t.columns.length;
      const { columns, values } = this.dialect.appendColumns(t, (i) => `@f${i}`);
      values[objectAt] = OBJECT_VARIABLE;
      const fields = values.flatMap((_, i) => (i === objectAt ? [] : [`@f${i}`])).join(', ');
      const set = columns.map((c, i) => `${c} = ${values[i]}`).join(', ');
      await connection.execute(`SET ${OBJECT_VARIABLE} = ?`, [objectName]);
      const sent = withoutValue(rows, objectAt);
      const plain = appendPlainValues(t.columns);
      return this.loadData(connection, `${into} ${LOAD_DATA_FORMAT} (${fields}) SET ${set}`, sent, plain);
    });
  }

  /**
   * LOAD DATA LOCAL INFILE of rows written as CSV, streamed; `into` is the table, format and columns, `plain`
   * the values that go unquoted.
   */
  private async loadData(
    connection: mysql.Connection,
    into: string,
    rows: RowBatches,
    plain?: boolean[],
  ): Promise<number> {
    const counter = { rows: 0 };
    let failure: unknown;
    const source = Readable.from(csvChunks(rows, counter, { nullText: 'NULL', plain }));
    // mysql2 does not pass a stream error on: keep it, so the load fails with the parser's reason.
    source.on('error', (e) => (failure = e));
    const [result] = await connection.query<mysql.ResultSetHeader>({
      sql: `LOAD DATA LOCAL INFILE 'lakehouse-rows.csv' INTO TABLE ${into}`,
      infileStreamFactory: () => source,
    });
    if (failure) throw failure;
    if (result.warningStatus > 0) {
      const [warnings] = await connection.query<mysql.RowDataPacket[]>('SHOW WARNINGS LIMIT 3');
      throw new Error(
        `LOAD DATA reported ${result.warningStatus} warning(s), which would change data: ${warnings.map((w) => String(w.Message)).join('; ')}`,
      );
    }
    if (result.affectedRows !== counter.rows)
      throw new Error(`LOAD DATA wrote ${result.affectedRows} rows, expected ${counter.rows}`);
    return counter.rows;
  }

  protected findTable(table: TableName): Promise<MysqlTable> {
    return findMysqlTable((q) => this.query(q), table, this.dialect.schema, this.description);
  }

  protected readTable(connection: mysql.Connection, table: MysqlTable): AsyncIterable<Buffer> {
    return exportRows(connection, table);
  }

  /** Multi-row INSERTs of `head` and one `tuple` per row (prepared: values travel as parameters). */
  private async insertBatches(
    connection: mysql.Connection,
    head: string,
    tuple: string,
    rows: RowBatches,
  ): Promise<number> {
    let width = 0;
    let values: (string | null)[] = [];
    let bytes = 0;
    let total = 0;
    const maxRows = () => Math.min(this.options.batchRows ?? 10_000, Math.floor(MAX_PLACEHOLDERS / width));
    const flush = async () => {
      const count = values.length / width;
      if (!count) return;
      const sql = head + Array(count).fill(tuple).join(', ');
      await connection.execute(sql, values);
      // A short last batch is a statement of its own: release it, or every object would leave one prepared.
      if (count < maxRows()) connection.unprepare(sql);
      total += count;
      values = [];
      bytes = 0;
    };
    for await (const batch of rows)
      for (const row of batch) {
        width = row.length;
        for (const v of row) {
          values.push(v);
          bytes += v?.length ?? 0;
        }
        if (values.length / width >= maxRows() || bytes >= INSERT_BATCH_BYTES) await flush();
      }
    await flush();
    return total;
  }
}

/** The rows without their value at `index` (sent another way). */
async function* withoutValue(rows: RowBatches, index: number): AsyncGenerator<(string | null)[][]> {
  for await (const batch of rows) {
    for (const row of batch) row.splice(index, 1);
    yield batch;
  }
}

/** A session on MySQL or MariaDB, its bulk path chosen once connected. */
export const openMysql = opener(MysqlSession);

/**
 * The rows as CSV. The query streams (mysql2 pauses the socket while the stream's buffer is full); a consumer
 * that stops early leaves rows unread, so the connection is destroyed rather than reused.
 */
async function* exportRows(connection: mysql.Connection, table: MysqlTable): AsyncGenerator<Buffer> {
  // Only the callback API streams; the promise connection wraps one (typed only on pool connections).
  const core = (connection as unknown as { connection: CallbackConnection }).connection;
  const rows = core
    .query({ sql: mysqlExportQuery(table), rowsAsArray: true })
    .stream({ highWaterMark: EXPORT_BUFFER_ROWS });
  let done = false;
  try {
    yield* textRowsToCsv(table.columns, rows);
    done = true;
  } finally {
    if (!done) {
      rows.destroy();
      connection.destroy();
    }
  }
}

function connectionOptions(
  target: MysqlTarget,
): mysql.ConnectionOptions & { host?: string; port?: number; user?: string; database?: string } {
  const url = target.connection
    ? parseUrl(target.connection, 'mysql://user:password@host:3306/database')
    : undefined;
  const fromUrl = url
    ? {
        host: url.hostname || undefined,
        port: url.port ? Number(url.port) : undefined,
        user: url.username ? decodeURIComponent(url.username) : undefined,
        password: url.password ? decodeURIComponent(url.password) : undefined,
        database: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined,
      }
    : {};
  const password = target.password ?? fromUrl.password;
  protect(password);
  protect(fromUrl.password);
  return {
    host: target.host ?? fromUrl.host ?? 'localhost',
    port: target.port ?? fromUrl.port ?? 3306,
    user: target.user ?? fromUrl.user,
    password,
    database: target.database ?? fromUrl.database,
    ...sslFromUrl(url),
    charset: 'utf8mb4_bin',
    timezone: 'Z',
    supportBigNumbers: true,
    // Statements are one at a time: a stray ';' in anything can never start a second one.
    multipleStatements: false,
  };
}

/** `?ssl=true` or `?ssl-mode=REQUIRED` in the URL turns TLS on (Cloud SQL requires it unless on a private IP). */
function sslFromUrl(url: URL | undefined): Pick<mysql.ConnectionOptions, 'ssl'> {
  const mode = url?.searchParams.get('ssl-mode') ?? url?.searchParams.get('sslmode');
  const ssl = url?.searchParams.get('ssl');
  if (ssl === 'true' || (mode && !/^disabled?$/i.test(mode)))
    return { ssl: { rejectUnauthorized: !/^(required?|preferred)$/i.test(mode ?? '') } };
  return {};
}
