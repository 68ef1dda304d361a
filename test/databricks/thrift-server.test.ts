// The real @databricks/sql driver against the TCLIService test server (test/servers/thrift).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DBSQLClient, thrift } from '@databricks/sql';
import { startThriftServer } from '../servers/thrift/index.ts';
import type { ThriftServer } from '../servers/thrift/index.ts';
import { rewriteMarkers } from '../servers/thrift/parameters.ts';

const TOKEN = 'dapi-test-0123456789abcdef';
const { TTypeId } = thrift.TCLIService_types;

async function connect(server: ThriftServer, token = TOKEN) {
  const client = new DBSQLClient({ logger: { log: () => undefined } });
  await client.connect({
    host: server.host,
    port: server.port,
    path: server.path,
    token,
    checkServerCertificate: false,
    telemetryEnabled: false,
  });
  return client;
}

type Session = Awaited<ReturnType<DBSQLClient['openSession']>>;

function defined<T>(value: T | undefined | null): T {
  if (value === undefined || value === null) throw new Error('expected a value');
  return value;
}

async function rows(session: Session, sql: string, options: Parameters<Session['executeStatement']>[1] = {}) {
  const operation = await session.executeStatement(sql, options);
  try {
    const data = await operation.fetchAll();
    const schema = await operation.getSchema();
    return { data: data as Record<string, unknown>[], schema };
  } finally {
    await operation.close();
  }
}

const typesTable = `CREATE TABLE types AS SELECT * FROM (VALUES
  ('text', 42, 9007199254740991::BIGINT, 1.25::DOUBLE, 1234.5678::DECIMAL(18,4), true, DATE '2014-01-02',
   TIMESTAMP '2015-06-07 08:09:10.123456', [1, 2, 3], 7::TINYINT, 300::SMALLINT, 0.5::FLOAT, NULL::INTEGER),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) AS t(s, i, b, d, dec, bool, dt, ts, l, ti, si, f, n)`;

describe('TCLIService test server with the @databricks/sql driver', () => {
  let server: ThriftServer;
  let client: DBSQLClient;
  let session: Session;

  beforeAll(async () => {
    server = await startThriftServer({
      token: TOKEN,
      maxRowsPerFetch: 10_000,
      directResultsWaitMs: 200,
      duckdb: async (connection) => {
        await connection.run(typesTable);
        await connection.run(`CREATE TABLE people AS SELECT * FROM (VALUES (1, 'O''Brien'), (2, 'Ann "the" Smith'))
          AS t(id, name)`);
      },
    });
    client = await connect(server);
    session = await client.openSession();
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('opens a session with a UUID handle and protocol version V8', async () => {
    expect(session.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(session.id).not.toBe('00000000-0000-0000-0000-000000000000');
    const other = await client.openSession();
    expect(other.id).not.toBe(session.id);
    await other.close();
  });

  it('round-trips each type, with its TTypeId, and NULLs', async () => {
    const { data, schema } = await rows(session, 'SELECT * FROM types ORDER BY s NULLS LAST');
    expect(data).toEqual([
      {
        s: 'text',
        i: 42,
        b: 9007199254740991,
        d: 1.25,
        dec: 1234.5678,
        bool: true,
        dt: '2014-01-02',
        ts: '2015-06-07 08:09:10.123456',
        l: [1, 2, 3],
        ti: 7,
        si: 300,
        f: 0.5,
        n: null,
      },
      {
        s: null,
        i: null,
        b: null,
        d: null,
        dec: null,
        bool: null,
        dt: null,
        ts: null,
        l: null,
        ti: null,
        si: null,
        f: null,
        n: null,
      },
    ]);
    const types = Object.fromEntries(
      (schema?.columns ?? []).map((c) => [c.columnName, c.typeDesc.types[0]?.primitiveEntry?.type]),
    );
    expect(types).toEqual({
      s: TTypeId.STRING_TYPE,
      i: TTypeId.INT_TYPE,
      b: TTypeId.BIGINT_TYPE,
      d: TTypeId.DOUBLE_TYPE,
      dec: TTypeId.DECIMAL_TYPE,
      bool: TTypeId.BOOLEAN_TYPE,
      dt: TTypeId.DATE_TYPE,
      ts: TTypeId.TIMESTAMP_TYPE,
      l: TTypeId.ARRAY_TYPE,
      ti: TTypeId.TINYINT_TYPE,
      si: TTypeId.SMALLINT_TYPE,
      f: TTypeId.FLOAT_TYPE,
      n: TTypeId.INT_TYPE,
    });
    const decimal = schema?.columns.find((c) => c.columnName === 'dec')?.typeDesc.types[0]?.primitiveEntry;
    expect(decimal?.typeQualifiers?.qualifiers.precision?.i32Value).toBe(18);
    expect(decimal?.typeQualifiers?.qualifiers.scale?.i32Value).toBe(4);
  });

  it('sends DuckDB SUMs (HUGEINT) as DECIMAL(38,0) and structs and maps as JSON', async () => {
    const { data, schema } = await rows(
      session,
      "SELECT sum(i) AS total, {'a': 1, 'b': 'x'} AS st, MAP {'k': 2} AS m FROM types",
    );
    expect(data).toEqual([{ total: 42, st: { a: 1, b: 'x' }, m: { k: 2 } }]);
    expect(schema?.columns.map((c) => c.typeDesc.types[0]?.primitiveEntry?.type)).toEqual([
      TTypeId.DECIMAL_TYPE,
      TTypeId.STRUCT_TYPE,
      TTypeId.MAP_TYPE,
    ]);
  });

  it('binds named parameters as values: quotes cannot change the statement', async () => {
    const hostile = `x' OR 1=1; DROP TABLE people; --`;
    const found = await rows(session, 'SELECT id FROM people WHERE name = :name', {
      namedParameters: { name: hostile },
    });
    expect(found.data).toEqual([]);
    const quoted = await rows(
      session,
      'SELECT id, :echo AS echo FROM people WHERE name = :name ORDER BY id',
      {
        namedParameters: { name: "O'Brien", echo: 'say "hi"' },
      },
    );
    expect(quoted.data).toEqual([{ id: 1, echo: 'say "hi"' }]);
    const still = await rows(session, 'SELECT count(*) AS n FROM people');
    expect(still.data).toEqual([{ n: 2 }]);
  });

  it('binds typed parameters: integers, doubles, booleans, timestamps, NULL', async () => {
    const when = new Date(Date.UTC(2015, 5, 7, 8, 9, 10, 500));
    const { data } = await rows(
      session,
      'SELECT :i + 1 AS i, :f * 2 AS f, NOT :b AS b, :t AS t, :n AS n, :big AS big, dt = :day AS same_day FROM types WHERE s IS NOT NULL',
      {
        namedParameters: {
          i: 41,
          f: 0.25,
          b: false,
          t: when,
          n: null,
          big: 2 ** 40,
          day: new Date(Date.UTC(2014, 0, 2)),
        },
      },
    );
    expect(data).toEqual([
      { i: 42, f: 0.5, b: true, t: '2015-06-07 08:09:10.5', n: null, big: 2 ** 40, same_day: true },
    ]);
  });

  it('binds ordinal parameters', async () => {
    const { data } = await rows(session, 'SELECT id FROM people WHERE id = ? OR name = ? ORDER BY id', {
      ordinalParameters: [2, "O'Brien"],
    });
    expect(data).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('reports a parameter the statement uses but nobody gave', async () => {
    await expect(
      rows(session, 'SELECT :missing AS x', { namedParameters: { other: 1 } }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('UNBOUND_SQL_PARAMETER: found the unbound parameter :missing'),
    });
  });

  it('returns 100 000 rows over several fetches, honouring maxRows', async () => {
    const before = server.calls.FetchResults ?? 0;
    const { data } = await rows(
      session,
      "SELECT range AS id, 'item ' || range AS name, range * 0.5 AS amount FROM range(100000) ORDER BY id",
    );
    expect(data).toHaveLength(100_000);
    expect(data[0]).toEqual({ id: 0, name: 'item 0', amount: 0 });
    expect(data[99_999]).toEqual({ id: 99_999, name: 'item 99999', amount: 49_999.5 });
    expect(new Set(data.map((r) => r.id)).size).toBe(100_000);
    // Pages of at most 10 000 rows: direct results may carry the first (when the statement is done within
    // directResultsWaitMs), then the rest and a final empty page.
    expect((server.calls.FetchResults ?? 0) - before).toBeGreaterThanOrEqual(10);
    expect((server.calls.FetchResults ?? 0) - before).toBeLessThanOrEqual(11);

    const operation = await session.executeStatement('SELECT range AS id FROM range(25)', { maxRows: null });
    const first = await operation.fetchChunk({ maxRows: 10 });
    const second = await operation.fetchChunk({ maxRows: 10 });
    const third = await operation.fetchChunk({ maxRows: 10 });
    await operation.close();
    expect([first.length, second.length, third.length]).toEqual([10, 10, 5]);
    expect((third as { id: number }[]).map((r) => r.id)).toEqual([20, 21, 22, 23, 24]);
  });

  it("surfaces DuckDB's error message for a bad statement", async () => {
    const attempt = rows(session, 'SELECT no_such_column FROM people');
    await expect(attempt).rejects.toMatchObject({
      message: expect.stringContaining('Referenced column "no_such_column" not found'),
    });
  });

  it("surfaces DuckDB's error message for a statement failing while it runs", async () => {
    const attempt = rows(session, 'SELECT CAST(name AS INTEGER) AS n FROM people');
    await expect(attempt).rejects.toMatchObject({
      message: expect.stringContaining('Could not convert string'),
    });
  });

  it('runs statements asynchronously: the driver polls until the result is ready', async () => {
    const before = server.calls.GetOperationStatus ?? 0;
    server.faults.queryDelayMs = 600;
    try {
      const started = Date.now();
      const { data } = await rows(session, 'SELECT 1 AS one');
      expect(data).toEqual([{ one: 1 }]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
      expect((server.calls.GetOperationStatus ?? 0) - before).toBeGreaterThanOrEqual(1);
    } finally {
      server.faults.queryDelayMs = 0;
    }
  });

  it('reports a failure found while polling, with the message', async () => {
    server.faults.queryDelayMs = 400;
    const before = server.calls.GetOperationStatus ?? 0;
    try {
      await expect(rows(session, 'SELECT CAST(name AS INTEGER) AS n FROM people')).rejects.toMatchObject({
        message: expect.stringContaining('Could not convert string'),
      });
      expect((server.calls.GetOperationStatus ?? 0) - before).toBeGreaterThanOrEqual(1);
    } finally {
      server.faults.queryDelayMs = 0;
    }
  });

  it('cancels a running statement', async () => {
    server.faults.queryDelayMs = 10_000;
    try {
      const operation = await session.executeStatement('SELECT 1 AS one');
      await operation.cancel();
      await expect(operation.fetchAll()).rejects.toThrow(/cancel/i);
    } finally {
      server.faults.queryDelayMs = 0;
    }
    // The session's connection is free again at once, not after the 10 s delay.
    const started = Date.now();
    expect((await rows(session, 'SELECT 2 AS two')).data).toEqual([{ two: 2 }]);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('times out a statement past the queryTimeout the client sent', async () => {
    server.faults.queryDelayMs = 5000;
    try {
      await expect(rows(session, 'SELECT 1 AS one', { queryTimeout: 1 })).rejects.toThrow(/timed out/);
    } finally {
      server.faults.queryDelayMs = 0;
    }
  });

  it('delays responses when asked to', async () => {
    server.faults.responseDelayMs = 300;
    try {
      const started = Date.now();
      await rows(session, 'SELECT 1 AS one');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      server.faults.responseDelayMs = 0;
    }
  });

  it('answers the metadata calls', async () => {
    const tables = await session.getTables({ tableName: 'peo%' });
    const found = (await tables.fetchAll()) as Record<string, unknown>[];
    await tables.close();
    expect(found).toEqual([
      { TABLE_CAT: 'memory', TABLE_SCHEM: 'main', TABLE_NAME: 'people', TABLE_TYPE: 'TABLE', REMARKS: '' },
    ]);
    const columns = await session.getColumns({ tableName: 'people' });
    const names = ((await columns.fetchAll()) as { COLUMN_NAME: string }[]).map((c) => c.COLUMN_NAME);
    await columns.close();
    expect(names).toEqual(['id', 'name']);
    const catalogs = await session.getCatalogs();
    expect(await catalogs.fetchAll()).toContainEqual({ TABLE_CAT: 'memory' });
    await catalogs.close();
  });

  it('answers raw TCLIService calls: synchronous execution, errors as TStatus, unknown handles', async () => {
    const { TStatusCode, TFetchOrientation } = thrift.TCLIService_types;
    const driver = await client.getDriver();
    const opened = await driver.openSession({});
    expect(opened.status.statusCode).toBe(thrift.TCLIService_types.TStatusCode.SUCCESS_STATUS);
    expect(opened.serverProtocolVersion).toBe(
      thrift.TCLIService_types.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
    );
    const sessionHandle = defined(opened.sessionHandle);

    const done = await driver.executeStatement({
      sessionHandle,
      statement: 'SELECT name FROM people ORDER BY id',
      runAsync: false,
    });
    expect(done.status.statusCode).toBe(TStatusCode.SUCCESS_STATUS);
    const operationHandle = defined(done.operationHandle);
    const state = await driver.getOperationStatus({ operationHandle });
    expect(state.operationState).toBe(thrift.TCLIService_types.TOperationState.FINISHED_STATE);
    const page = await driver.fetchResults({
      operationHandle,
      orientation: TFetchOrientation.FETCH_NEXT,
      maxRows: 1,
    });
    expect(page.hasMoreRows).toBe(true);
    expect(page.results?.columns?.[0]?.stringVal?.values).toEqual(["O'Brien"]);
    await driver.closeOperation({ operationHandle });

    const runtime = await driver.executeStatement({
      sessionHandle,
      statement: 'SELECT CAST(name AS INTEGER) FROM people',
      runAsync: false,
    });
    expect(runtime.status.statusCode).toBe(TStatusCode.ERROR_STATUS);
    expect(runtime.status.errorMessage).toContain('Could not convert string');

    const stranger = { sessionId: { guid: Buffer.alloc(16, 7), secret: Buffer.alloc(16, 7) } };
    const unknown = await driver.executeStatement({ sessionHandle: stranger, statement: 'SELECT 1' });
    expect(unknown.status.statusCode).toBe(TStatusCode.INVALID_HANDLE_STATUS);
    expect(unknown.status.errorMessage).toBe(
      'Invalid SessionHandle: SessionHandle [07070707-0707-0707-0707-070707070707]',
    );

    expect((await driver.closeSession({ sessionHandle })).status.statusCode).toBe(TStatusCode.SUCCESS_STATUS);
    const closed = await driver.executeStatement({ sessionHandle, statement: 'SELECT 1' });
    expect(closed.status.statusCode).toBe(TStatusCode.INVALID_HANDLE_STATUS);
  });

  it('rejects a wrong token with HTTP 401, without echoing it', async () => {
    const wrong = 'dapi-wrong-fedcba9876543210';
    const other = await connect(server, wrong);
    const failure = await other.openSession().then(
      () => undefined,
      (error: unknown) => error as { message: string; statusCode?: number },
    );
    await other.close();
    expect(failure?.statusCode).toBe(401);
    expect(failure?.message).toContain('401');
    expect(JSON.stringify(failure)).not.toContain(wrong);
    expect(JSON.stringify(failure)).not.toContain(TOKEN);
  });
});

describe('TCLIService test server faults', () => {
  it('refuses connections while stopped and serves again after resume', async () => {
    const server = await startThriftServer({ token: TOKEN, duckdb: async () => undefined });
    try {
      await server.refuseConnections();
      const client = await connect(server);
      await expect(client.openSession()).rejects.toThrow(/ECONNREFUSED/);
      await client.close();
      await server.resume();
      const again = await connect(server);
      const session = await again.openSession();
      expect((await rows(session, 'SELECT 3 AS three')).data).toEqual([{ three: 3 }]);
      await again.close();
    } finally {
      await server.close();
    }
  });

  it('serves from a DuckDB connection shared by all sessions', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run("CREATE TABLE t AS SELECT 'shared' AS v");
    const server = await startThriftServer({ token: TOKEN, duckdb: connection });
    const client = await connect(server);
    try {
      const [a, b] = await Promise.all([client.openSession(), client.openSession()]);
      const results = await Promise.all([rows(a, 'SELECT v FROM t'), rows(b, 'SELECT v FROM t')]);
      expect(results.map((r) => r.data)).toEqual([[{ v: 'shared' }], [{ v: 'shared' }]]);
    } finally {
      await client.close();
      await server.close();
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('Spark parameter markers', () => {
  it('leaves string literals, quoted identifiers, comments and :: casts alone', () => {
    const seen: string[] = [];
    const out = rewriteMarkers(
      `SELECT ':a', ":b", \`:c\`, x::int, :d -- :e\n/* :f */ FROM t WHERE y = ? AND z = 'it''s :g'`,
      (marker) => (seen.push(marker), marker === ':d' ? '$d' : undefined),
    );
    expect(seen).toEqual([':d', '?']);
    expect(out).toBe(
      `SELECT ':a', ":b", \`:c\`, x::int, $d -- :e\n/* :f */ FROM t WHERE y = ? AND z = 'it''s :g'`,
    );
  });
});
