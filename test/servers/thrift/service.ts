// The TCLIService handler: sessions and operations over DuckDB, answering as a Databricks SQL warehouse does on
// the Thrift protocol (SPARK_CLI_SERVICE_PROTOCOL_V8, column-based results, direct results, async execution).
import { randomUUID } from 'node:crypto';
import { VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';
import { bindSparkParameters } from './parameters.ts';
import type { SparkParameter } from './parameters.ts';
import { resultTable } from './results.ts';
import type { ResultTable } from './results.ts';
import {
  int64,
  numberFromInt64,
  TFetchOrientation,
  TGetInfoType,
  TOperationState,
  TOperationType,
  TProtocolVersion,
  TSparkRowSetType,
  TStatusCode,
} from './runtime.ts';
import type { Int64 } from './runtime.ts';

/** Where sessions get their DuckDB connection: one shared connection, or a new one per session. */
export type DatabaseSource =
  { kind: 'shared'; connection: DuckDBConnection } | { kind: 'per-session'; instance: DuckDBInstance };

export interface ThriftServerFaults {
  /** Every HTTP response is held back this long. */
  responseDelayMs: number;
  /** Every statement stays RUNNING this long before DuckDB runs it (cancellable). */
  queryDelayMs: number;
}

export interface ServiceOptions {
  database: DatabaseSource;
  faults: ThriftServerFaults;
  /** Calls per TCLIService method, for tests to assert on (e.g. how many FetchResults a query took). */
  calls: Record<string, number>;
  /** Rows per FetchResults at most, whatever the client asks for: large results take several fetches. */
  maxRowsPerFetch: number;
  /** How long ExecuteStatement waits for a statement to finish when the client asks for direct results. */
  directResultsWaitMs: number;
}

interface HandleIdentifier {
  guid: Buffer;
  secret: Buffer;
}
interface SessionHandle {
  sessionId: HandleIdentifier;
}
interface OperationHandle {
  operationId: HandleIdentifier;
  operationType?: number;
  hasResultSet?: boolean;
}
interface DirectResultsRequest {
  getDirectResults?: { maxRows: Int64 } | null;
  runAsync?: boolean | null;
}
interface Status {
  statusCode: number;
  errorMessage?: string;
  displayMessage?: string;
  sqlState?: string;
}

class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

interface Session {
  handle: HandleIdentifier;
  connection: DuckDBConnection;
  /** A DuckDB connection runs one statement at a time. */
  queue: SerialQueue;
  ownsConnection: boolean;
  operations: Set<Operation>;
}

interface Operation {
  handle: HandleIdentifier;
  type: number;
  session: Session;
  state: number;
  error?: string;
  result?: ResultTable;
  cursor: number;
  started: number;
  completed?: number;
  /** DuckDB is running the statement now (so interrupt() reaches it). */
  executing: boolean;
  abort: AbortController;
  done: Promise<void>;
}

const success: Status = { statusCode: TStatusCode.SUCCESS_STATUS };
const sharedQueues = new WeakMap<DuckDBConnection, SerialQueue>();

function failure(message: string): Status {
  return { statusCode: TStatusCode.ERROR_STATUS, errorMessage: message, displayMessage: message };
}
function invalidHandle(message: string): Status {
  return { statusCode: TStatusCode.INVALID_HANDLE_STATUS, errorMessage: message, displayMessage: message };
}
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
function newHandle(): HandleIdentifier {
  const bytes = (uuid: string) => Buffer.from(uuid.replaceAll('-', ''), 'hex');
  return { guid: bytes(randomUUID()), secret: bytes(randomUUID()) };
}
function uuidText(guid: Buffer): string {
  const hex = guid.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
function waitUpTo(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
// Hive metadata patterns use % and _ like LIKE, and * for "anything".
function likePattern(pattern: string | null | undefined): string {
  return pattern ? pattern.replaceAll('*', '%') : '%';
}

export class TCLIServiceHandler {
  private readonly sessions = new Map<string, Session>();
  private readonly operations = new Map<string, Operation>();
  private readonly options: ServiceOptions;

  constructor(options: ServiceOptions) {
    this.options = options;
  }

  /** The handler methods the generated Processor calls; each takes exactly one argument and returns a promise. */
  methods(): Record<string, (req: never) => Promise<object>> {
    const counted = <T>(name: string, method: (req: T) => Promise<object>) => {
      return (req: T) => {
        this.options.calls[name] = (this.options.calls[name] ?? 0) + 1;
        return method(req);
      };
    };
    const unsupported = (name: string) =>
      counted(name, async (_req: unknown) => ({
        status: failure(`${name} is not supported by the Thrift test server`),
      }));
    return {
      OpenSession: counted('OpenSession', (req) => this.openSession(req)),
      CloseSession: counted('CloseSession', (req) => this.closeSession(req)),
      GetInfo: counted('GetInfo', (req) => this.getInfo(req)),
      ExecuteStatement: counted('ExecuteStatement', (req) => this.executeStatement(req)),
      GetCatalogs: counted('GetCatalogs', (req) => this.getCatalogs(req)),
      GetSchemas: counted('GetSchemas', (req) => this.getSchemas(req)),
      GetTables: counted('GetTables', (req) => this.getTables(req)),
      GetTableTypes: counted('GetTableTypes', (req) => this.getTableTypes(req)),
      GetColumns: counted('GetColumns', (req) => this.getColumns(req)),
      GetOperationStatus: counted('GetOperationStatus', (req) => this.getOperationStatus(req)),
      CancelOperation: counted('CancelOperation', (req) => this.cancelOperation(req)),
      CloseOperation: counted('CloseOperation', (req) => this.closeOperation(req)),
      GetResultSetMetadata: counted('GetResultSetMetadata', (req) => this.getResultSetMetadata(req)),
      FetchResults: counted('FetchResults', (req) => this.fetchResults(req)),
      GetTypeInfo: unsupported('GetTypeInfo'),
      GetFunctions: unsupported('GetFunctions'),
      GetPrimaryKeys: unsupported('GetPrimaryKeys'),
      GetCrossReference: unsupported('GetCrossReference'),
      GetDelegationToken: unsupported('GetDelegationToken'),
      CancelDelegationToken: unsupported('CancelDelegationToken'),
      RenewDelegationToken: unsupported('RenewDelegationToken'),
    };
  }

  /** Cancels what is running and closes every session (and the connections the sessions opened). */
  async closeAll(): Promise<void> {
    for (const operation of this.operations.values()) this.cancel(operation, TOperationState.CANCELED_STATE);
    await Promise.all([...this.operations.values()].map((operation) => operation.done));
    this.operations.clear();
    for (const session of this.sessions.values()) if (session.ownsConnection) session.connection.closeSync();
    this.sessions.clear();
  }

  // ---- sessions ----

  private async openSession(req: {
    client_protocol_i64?: Int64 | null;
    client_protocol?: number | null;
    initialNamespace?: { catalogName?: string | null; schemaName?: string | null } | null;
  }): Promise<object> {
    const { database } = this.options;
    const connection = database.kind === 'shared' ? database.connection : await database.instance.connect();
    const session: Session = {
      handle: newHandle(),
      connection,
      queue: database.kind === 'shared' ? sharedQueue(connection) : new SerialQueue(),
      ownsConnection: database.kind === 'per-session',
      operations: new Set(),
    };
    const namespace = req.initialNamespace;
    const path = [namespace?.catalogName, namespace?.schemaName].filter((part): part is string => !!part);
    if (path.length > 0) {
      try {
        await session.queue.run(() => connection.run(`USE ${path.map(quoteIdentifier).join('.')}`));
      } catch (error) {
        if (session.ownsConnection) connection.closeSync();
        return {
          status: failure(messageOf(error)),
          serverProtocolVersion: TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
        };
      }
    }
    this.sessions.set(session.handle.guid.toString('hex'), session);
    return {
      status: success,
      serverProtocolVersion: protocolVersionFor(req),
      sessionHandle: { sessionId: session.handle },
      canUseMultipleCatalogs: true,
      configuration: {},
      ...(namespace ? { initialNamespace: namespace } : {}),
    };
  }

  private async closeSession(req: { sessionHandle: SessionHandle }): Promise<object> {
    const session = this.session(req.sessionHandle);
    if (!session) return { status: this.invalidSession(req.sessionHandle) };
    for (const operation of session.operations) this.cancel(operation, TOperationState.CLOSED_STATE);
    await Promise.all([...session.operations].map((operation) => operation.done));
    for (const operation of session.operations) this.operations.delete(operation.handle.guid.toString('hex'));
    this.sessions.delete(session.handle.guid.toString('hex'));
    if (session.ownsConnection) session.connection.closeSync();
    return { status: success };
  }

  private async getInfo(req: { sessionHandle: SessionHandle; infoType: number }): Promise<object> {
    if (!this.session(req.sessionHandle)) {
      return { status: this.invalidSession(req.sessionHandle), infoValue: { stringValue: '' } };
    }
    const answers: Record<number, string> = {
      [TGetInfoType.CLI_SERVER_NAME]: 'actions-lakehouse Thrift test server',
      [TGetInfoType.CLI_DBMS_NAME]: 'Spark SQL (DuckDB)',
      [TGetInfoType.CLI_DBMS_VER]: '3.5.0',
    };
    const answer = answers[req.infoType];
    if (answer === undefined) {
      return {
        status: failure(`GetInfo type ${req.infoType} is not supported`),
        infoValue: { stringValue: '' },
      };
    }
    return { status: success, infoValue: { stringValue: answer } };
  }

  private session(handle: SessionHandle | null | undefined): Session | undefined {
    const id = handle?.sessionId;
    const session = id?.guid ? this.sessions.get(Buffer.from(id.guid).toString('hex')) : undefined;
    return session && id && Buffer.from(id.secret ?? []).equals(session.handle.secret) ? session : undefined;
  }

  private invalidSession(handle: SessionHandle | null | undefined): Status {
    const guid = handle?.sessionId?.guid;
    return invalidHandle(
      `Invalid SessionHandle: SessionHandle [${guid ? uuidText(Buffer.from(guid)) : 'missing'}]`,
    );
  }

  // ---- statements ----

  private async executeStatement(
    req: DirectResultsRequest & {
      sessionHandle: SessionHandle;
      statement: string;
      queryTimeout?: Int64 | null;
      parameters?: SparkParameter[] | null;
    },
  ): Promise<object> {
    const session = this.session(req.sessionHandle);
    if (!session) return { status: this.invalidSession(req.sessionHandle) };
    let bound;
    try {
      bound = bindSparkParameters(req.statement, req.parameters);
    } catch (error) {
      return { status: failure(messageOf(error)) };
    }
    const { sql, values } = bound;
    return this.startOperation(
      session,
      TOperationType.EXECUTE_STATEMENT,
      sql,
      values,
      req,
      numberFromInt64(req.queryTimeout),
    );
  }

  private getCatalogs(req: DirectResultsRequest & { sessionHandle: SessionHandle }): Promise<object> {
    const sql = 'SELECT DISTINCT catalog_name AS TABLE_CAT FROM information_schema.schemata ORDER BY 1';
    return this.metadataOperation(req, TOperationType.GET_CATALOGS, sql, {});
  }

  private getSchemas(
    req: DirectResultsRequest & {
      sessionHandle: SessionHandle;
      catalogName?: string | null;
      schemaName?: string | null;
    },
  ): Promise<object> {
    const sql = `SELECT schema_name AS TABLE_SCHEM, catalog_name AS TABLE_CATALOG FROM information_schema.schemata
      WHERE catalog_name LIKE $catalog AND schema_name LIKE $schema ORDER BY 2, 1`;
    const values = { catalog: likePattern(req.catalogName), schema: likePattern(req.schemaName) };
    return this.metadataOperation(req, TOperationType.GET_SCHEMAS, sql, values);
  }

  private getTables(
    req: DirectResultsRequest & {
      sessionHandle: SessionHandle;
      catalogName?: string | null;
      schemaName?: string | null;
      tableName?: string | null;
      tableTypes?: string[] | null;
    },
  ): Promise<object> {
    const types = req.tableTypes ?? [];
    const values: Record<string, string> = {
      catalog: likePattern(req.catalogName),
      schema: likePattern(req.schemaName),
      table: likePattern(req.tableName),
    };
    types.forEach((type, i) => (values[`type${i}`] = type));
    const typeFilter =
      types.length > 0 ? `AND TABLE_TYPE IN (${types.map((_, i) => `$type${i}`).join(', ')})` : '';
    const sql = `SELECT * FROM (SELECT table_catalog AS TABLE_CAT, table_schema AS TABLE_SCHEM, table_name AS TABLE_NAME,
        CASE table_type WHEN 'BASE TABLE' THEN 'TABLE' ELSE table_type END AS TABLE_TYPE, '' AS REMARKS
      FROM information_schema.tables
      WHERE table_catalog LIKE $catalog AND table_schema LIKE $schema AND table_name LIKE $table)
      WHERE true ${typeFilter} ORDER BY TABLE_TYPE, TABLE_CAT, TABLE_SCHEM, TABLE_NAME`;
    return this.metadataOperation(req, TOperationType.GET_TABLES, sql, values);
  }

  private getTableTypes(req: DirectResultsRequest & { sessionHandle: SessionHandle }): Promise<object> {
    const sql = "SELECT TABLE_TYPE FROM (VALUES ('TABLE'), ('VIEW')) AS t(TABLE_TYPE)";
    return this.metadataOperation(req, TOperationType.GET_TABLE_TYPES, sql, {});
  }

  private getColumns(
    req: DirectResultsRequest & {
      sessionHandle: SessionHandle;
      catalogName?: string | null;
      schemaName?: string | null;
      tableName?: string | null;
      columnName?: string | null;
    },
  ): Promise<object> {
    const sql = `SELECT table_catalog AS TABLE_CAT, table_schema AS TABLE_SCHEM, table_name AS TABLE_NAME,
        column_name AS COLUMN_NAME, data_type AS TYPE_NAME, CAST(ordinal_position AS INTEGER) AS ORDINAL_POSITION,
        is_nullable AS IS_NULLABLE
      FROM information_schema.columns
      WHERE table_catalog LIKE $catalog AND table_schema LIKE $schema AND table_name LIKE $table
        AND column_name LIKE $column
      ORDER BY TABLE_CAT, TABLE_SCHEM, TABLE_NAME, ORDINAL_POSITION`;
    const values = {
      catalog: likePattern(req.catalogName),
      schema: likePattern(req.schemaName),
      table: likePattern(req.tableName),
      column: likePattern(req.columnName),
    };
    return this.metadataOperation(req, TOperationType.GET_COLUMNS, sql, values);
  }

  private metadataOperation(
    req: DirectResultsRequest & { sessionHandle: SessionHandle },
    type: number,
    sql: string,
    values: Record<string, string>,
  ): Promise<object> {
    const session = this.session(req.sessionHandle);
    if (!session) return Promise.resolve({ status: this.invalidSession(req.sessionHandle) });
    return this.startOperation(session, type, sql, values, req, undefined);
  }

  /**
   * Prepares the statement (parse and bind errors come back at once as an error TStatus), then runs it in the
   * background; a synchronous request, or one asking for direct results, waits for it.
   */
  private async startOperation(
    session: Session,
    type: number,
    sql: string,
    values: Record<string, string | null> | (string | null)[],
    req: DirectResultsRequest,
    timeoutSeconds: number | undefined,
  ): Promise<object> {
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await session.queue.run(async () => {
        const statement = await session.connection.prepare(sql);
        try {
          statement.bind(values, varcharTypes(values));
        } catch (error) {
          statement.destroySync();
          throw error;
        }
        return statement;
      });
    } catch (error) {
      return { status: failure(messageOf(error)) };
    }

    const operation: Operation = {
      handle: newHandle(),
      type,
      session,
      state: TOperationState.RUNNING_STATE,
      cursor: 0,
      started: Date.now(),
      executing: false,
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    operation.done = this.run(operation, prepared, timeoutSeconds);
    this.operations.set(operation.handle.guid.toString('hex'), operation);
    session.operations.add(operation);

    if (req.runAsync === false) {
      await operation.done;
      if (operation.state !== TOperationState.FINISHED_STATE) {
        this.forget(operation);
        return { status: failure(operation.error ?? 'the statement did not finish') };
      }
    }
    const maxRows = req.getDirectResults ? numberFromInt64(req.getDirectResults.maxRows) : undefined;
    const handle = { operationId: operation.handle, operationType: type, hasResultSet: true };
    if (maxRows === undefined) return { status: success, operationHandle: handle };
    await waitUpTo(operation.done, this.options.directResultsWaitMs);
    return {
      status: success,
      operationHandle: handle,
      directResults: this.directResults(operation, maxRows),
    };
  }

  private async run(
    operation: Operation,
    prepared: DuckDBPreparedStatement,
    timeoutSeconds: number | undefined,
  ) {
    const timer =
      timeoutSeconds && timeoutSeconds > 0
        ? setTimeout(() => this.cancel(operation, TOperationState.TIMEDOUT_STATE), timeoutSeconds * 1000)
        : undefined;
    try {
      await operation.session.queue.run(async () => {
        await sleep(this.options.faults.queryDelayMs, operation.abort.signal);
        if (operation.state !== TOperationState.RUNNING_STATE) return;
        operation.executing = true;
        try {
          const reader = await prepared.runAndReadAll();
          if (operation.state === TOperationState.RUNNING_STATE) {
            operation.result = resultTable(reader);
            operation.state = TOperationState.FINISHED_STATE;
          }
        } catch (error) {
          if (operation.state === TOperationState.RUNNING_STATE) {
            operation.state = TOperationState.ERROR_STATE;
            operation.error = messageOf(error);
          }
        } finally {
          operation.executing = false;
        }
      });
    } finally {
      clearTimeout(timer);
      prepared.destroySync();
      operation.completed = Date.now();
    }
  }

  private cancel(operation: Operation, state: number): void {
    if (operation.state === TOperationState.RUNNING_STATE) {
      operation.state = state;
      if (state === TOperationState.TIMEDOUT_STATE) {
        operation.error = `the statement timed out after ${Math.round((Date.now() - operation.started) / 1000)} s`;
      }
      operation.abort.abort();
      if (operation.executing) operation.session.connection.interrupt();
    } else if (state === TOperationState.CLOSED_STATE) {
      operation.state = state;
    }
    operation.result = state === TOperationState.CLOSED_STATE ? undefined : operation.result;
  }

  private forget(operation: Operation): void {
    this.operations.delete(operation.handle.guid.toString('hex'));
    operation.session.operations.delete(operation);
  }

  private directResults(operation: Operation, maxRows: number): object {
    const operationStatus = this.statusResponse(operation);
    if (operation.state !== TOperationState.FINISHED_STATE) return { operationStatus };
    const resultSetMetadata = this.metadataResponse(operation);
    const resultSet = this.fetch(operation, maxRows);
    if (operation.cursor < (operation.result?.rowCount ?? 0))
      return { operationStatus, resultSetMetadata, resultSet };
    // Everything fitted: close the operation, as a warehouse does, so the driver sends no CloseOperation.
    this.forget(operation);
    return { operationStatus, resultSetMetadata, resultSet, closeOperation: { status: success } };
  }

  // ---- operations ----

  private operation(handle: OperationHandle | null | undefined): Operation | undefined {
    const id = handle?.operationId;
    const operation = id?.guid ? this.operations.get(Buffer.from(id.guid).toString('hex')) : undefined;
    return operation && id && Buffer.from(id.secret ?? []).equals(operation.handle.secret)
      ? operation
      : undefined;
  }

  private invalidOperation(handle: OperationHandle | null | undefined): Status {
    const guid = handle?.operationId?.guid;
    return invalidHandle(
      `Invalid OperationHandle: OperationHandle [${guid ? uuidText(Buffer.from(guid)) : 'missing'}]`,
    );
  }

  private statusResponse(operation: Operation): object {
    const failed = operation.error !== undefined;
    return {
      status: success,
      operationState: operation.state,
      hasResultSet:
        operation.state === TOperationState.FINISHED_STATE
          ? (operation.result?.schema.columns.length ?? 0) > 0
          : true,
      operationStarted: int64(operation.started),
      ...(operation.completed ? { operationCompleted: int64(operation.completed) } : {}),
      ...(failed ? { errorMessage: operation.error, displayMessage: operation.error } : {}),
    };
  }

  private metadataResponse(operation: Operation): object {
    return {
      status: success,
      schema: operation.result?.schema ?? { columns: [] },
      resultFormat: TSparkRowSetType.COLUMN_BASED_SET,
      lz4Compressed: false,
      isStagingOperation: false,
    };
  }

  private fetch(operation: Operation, maxRows: number): object {
    const result = operation.result as ResultTable;
    const limit = Math.min(
      maxRows > 0 ? maxRows : this.options.maxRowsPerFetch,
      this.options.maxRowsPerFetch,
    );
    const start = operation.cursor;
    const end = Math.min(start + limit, result.rowCount);
    operation.cursor = end;
    return {
      status: success,
      hasMoreRows: end < result.rowCount,
      results: {
        startRowOffset: int64(start),
        rows: [],
        columns: result.page(start, end),
        columnCount: result.schema.columns.length,
      },
    };
  }

  private async getOperationStatus(req: { operationHandle: OperationHandle }): Promise<object> {
    const operation = this.operation(req.operationHandle);
    if (!operation) return { status: this.invalidOperation(req.operationHandle) };
    return this.statusResponse(operation);
  }

  private async cancelOperation(req: { operationHandle: OperationHandle }): Promise<object> {
    const operation = this.operation(req.operationHandle);
    if (!operation) return { status: this.invalidOperation(req.operationHandle) };
    this.cancel(operation, TOperationState.CANCELED_STATE);
    return { status: success };
  }

  private async closeOperation(req: { operationHandle: OperationHandle }): Promise<object> {
    const operation = this.operation(req.operationHandle);
    if (!operation) return { status: this.invalidOperation(req.operationHandle) };
    this.cancel(operation, TOperationState.CLOSED_STATE);
    this.forget(operation);
    return { status: success };
  }

  private async getResultSetMetadata(req: { operationHandle: OperationHandle }): Promise<object> {
    const operation = this.operation(req.operationHandle);
    if (!operation) return { status: this.invalidOperation(req.operationHandle) };
    if (operation.state !== TOperationState.FINISHED_STATE) return { status: this.notFinished(operation) };
    return this.metadataResponse(operation);
  }

  private async fetchResults(req: {
    operationHandle: OperationHandle;
    orientation?: number | null;
    maxRows: Int64;
    fetchType?: number | null;
  }): Promise<object> {
    const operation = this.operation(req.operationHandle);
    if (!operation) return { status: this.invalidOperation(req.operationHandle) };
    if (req.fetchType === 1) {
      // Operation logs: this server keeps none.
      return {
        status: success,
        hasMoreRows: false,
        results: { startRowOffset: int64(0), rows: [], columns: [] },
      };
    }
    if (operation.state !== TOperationState.FINISHED_STATE) return { status: this.notFinished(operation) };
    const orientation = req.orientation ?? TFetchOrientation.FETCH_NEXT;
    if (orientation === TFetchOrientation.FETCH_FIRST) operation.cursor = 0;
    else if (orientation !== TFetchOrientation.FETCH_NEXT) {
      return {
        status: failure(`fetch orientation ${orientation} is not supported: use FETCH_NEXT or FETCH_FIRST`),
      };
    }
    return this.fetch(operation, numberFromInt64(req.maxRows) ?? this.options.maxRowsPerFetch);
  }

  private notFinished(operation: Operation): Status {
    if (operation.error) return failure(operation.error);
    const states: Record<number, string> = {
      [TOperationState.RUNNING_STATE]: 'still running',
      [TOperationState.CANCELED_STATE]: 'canceled',
      [TOperationState.CLOSED_STATE]: 'closed',
    };
    return failure(
      `the operation has no result: it is ${states[operation.state] ?? `in state ${operation.state}`}`,
    );
  }
}

// The lower of the client's Spark protocol version and V8; clients that send none (the generated request
// defaults client_protocol to a Hive placeholder) get V8.
function protocolVersionFor(req: {
  client_protocol_i64?: Int64 | null;
  client_protocol?: number | null;
}): number {
  const v8 = TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8;
  const client = numberFromInt64(req.client_protocol_i64) ?? req.client_protocol ?? undefined;
  return client !== undefined && client >= TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V1
    ? Math.min(client, v8)
    : v8;
}

function sharedQueue(connection: DuckDBConnection): SerialQueue {
  let queue = sharedQueues.get(connection);
  if (!queue) {
    queue = new SerialQueue();
    sharedQueues.set(connection, queue);
  }
  return queue;
}

function varcharTypes(values: Record<string, string | null> | (string | null)[]) {
  return Array.isArray(values)
    ? values.map(() => VARCHAR)
    : Object.fromEntries(Object.keys(values).map((k) => [k, VARCHAR]));
}
