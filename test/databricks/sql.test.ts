// openWarehouse (src/databricks/sql.ts) against the TCLIService test server, compared with DuckDB itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  fromDuckDB,
  openWarehouse,
  warehouseConfigFromEnv,
  WarehouseError,
} from '../../src/databricks/sql.ts';
import type { Warehouse, WarehouseConfig } from '../../src/databricks/sql.ts';
import { startThriftServer } from '../servers/thrift/index.ts';
import type { ThriftServer } from '../servers/thrift/index.ts';

const TOKEN = 'dapi-client-test-0123456789';

function configFor(server: ThriftServer, overrides: Partial<WarehouseConfig> = {}): WarehouseConfig {
  return {
    host: server.host,
    port: server.port,
    httpPath: server.path,
    token: TOKEN,
    checkServerCertificate: false,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<WarehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WarehouseError)) throw new Error(`expected a WarehouseError, got ${String(error)}`);
  return error;
}

const goldSetup = `
  CREATE TABLE sales AS SELECT
    i AS id,
    'item ' || (i % 97) AS item,
    CASE WHEN i % 13 = 0 THEN NULL ELSE 'customer ' || (i % 31) END AS customer,
    (i % 7)::INTEGER AS quantity,
    (i * 1000003)::BIGINT AS big,
    round(i * 0.37, 2)::DECIMAL(12,2) AS price,
    i / 8.0 AS ratio,
    i % 2 = 0 AS even,
    DATE '2014-01-01' + (i % 730)::INTEGER AS day,
    TIMESTAMP '2014-01-01 00:00:00' + to_microseconds(i * 3600000123) AS seen_at,
    [i % 3, i % 5] AS pair
  FROM range(5000) AS r(i)`;

describe('openWarehouse against the Thrift test server', () => {
  let instance: DuckDBInstance;
  let duck: DuckDBConnection;
  let server: ThriftServer;
  let warehouse: Warehouse;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    duck = await instance.connect();
    await duck.run(goldSetup);
    await duck.run('CREATE SCHEMA gold');
    await duck.run(
      "CREATE TABLE gold.rules AS SELECT 'bread' AS antecedent, 'milk' AS consequent, 0.42 AS lift",
    );
    server = await startThriftServer({ token: TOKEN, duckdb: instance });
    warehouse = openWarehouse(configFor(server));
  });

  afterAll(async () => {
    await warehouse?.close();
    await server?.close();
    duck?.closeSync();
    instance?.closeSync();
  });

  async function direct(sql: string) {
    return (await duck.runAndReadAll(sql)).getRowObjectsJS().map((row) => fromDuckDB(row));
  }

  it('gives the same rows as DuckDB directly, for every type', async () => {
    const sql = 'SELECT * FROM sales ORDER BY id';
    const [remote, local] = await Promise.all([warehouse.query(sql), direct(sql)]);
    expect(remote).toHaveLength(5000);
    expect(remote).toEqual(local);
    expect(remote[1]).toEqual({
      id: 1,
      item: 'item 1',
      customer: 'customer 1',
      quantity: 1,
      big: 1000003,
      price: 0.37,
      ratio: 0.125,
      even: false,
      day: new Date('2014-01-02T00:00:00Z'),
      seen_at: new Date('2014-01-01T01:00:00.000Z'),
      pair: [1, 1],
    });
    expect(remote[0]?.customer).toBeNull();
  });

  it('gives the same aggregates as DuckDB directly', async () => {
    const sql = `SELECT item, count(*) AS n, sum(quantity) AS total, avg(price) AS mean, min(day) AS first,
        max(seen_at) AS last_seen, count(DISTINCT customer) AS customers
      FROM sales GROUP BY item ORDER BY total DESC, item LIMIT 20`;
    const [remote, local] = await Promise.all([warehouse.query(sql), direct(sql)]);
    expect(remote).toHaveLength(20);
    expect(remote).toEqual(local);
  });

  it('keeps microseconds out of Dates the way DuckDB does, before 1970 too', async () => {
    const sql = `SELECT TIMESTAMP '1969-12-31 23:59:59.9995' AS a, TIMESTAMP '2015-06-07 08:09:10.123999' AS b,
      TIMESTAMPTZ '2014-01-02 03:04:05+02' AS c, DATE '1900-02-28' AS d`;
    const [remote, local] = await Promise.all([warehouse.query(sql), direct(sql)]);
    expect(remote).toEqual(local);
    expect(remote[0]?.b).toEqual(new Date('2015-06-07T08:09:10.123Z'));
    expect(remote[0]?.c).toEqual(new Date('2014-01-02T01:04:05Z'));
  });

  it('binds named parameters of each type, and a string with quotes is only a value', async () => {
    const [row] = await warehouse.query<Record<string, unknown>>(
      `SELECT :s AS s, length(:s) AS len, :i + 1 AS i, :f * 2 AS f, NOT :b AS b, :when AS at, :nothing AS nothing,
         (SELECT count(*) FROM sales WHERE day = :day) AS on_day`,
      {
        s: `it's "quoted"; DROP TABLE sales; --`,
        i: 41,
        f: 0.25,
        b: true,
        when: new Date('2015-06-07T08:09:10.500Z'),
        nothing: null,
        day: new Date('2014-01-02T00:00:00Z'),
      },
    );
    expect(row).toEqual({
      s: `it's "quoted"; DROP TABLE sales; --`,
      len: 35,
      i: 42,
      f: 0.5,
      b: false,
      at: new Date('2015-06-07T08:09:10.500Z'),
      nothing: null,
      on_day: 7,
    });
    const [count] = await warehouse.query<{ n: number }>('SELECT count(*) AS n FROM sales');
    expect(count?.n).toBe(5000);
  });

  it('fetches a large result over several pages', async () => {
    const before = server.calls.FetchResults ?? 0;
    const result = await warehouse.query<{ id: number; label: string }>(
      "SELECT range AS id, 'row ' || range AS label FROM range(100000) WHERE range >= :from ORDER BY id",
      { from: 0 },
    );
    expect(result).toHaveLength(100_000);
    expect(result[99_999]).toEqual({ id: 99_999, label: 'row 99999' });
    expect((server.calls.FetchResults ?? 0) - before).toBeGreaterThanOrEqual(2);
  });

  it('reuses one session for all queries, concurrent ones included', async () => {
    const sessionsBefore = server.calls.OpenSession ?? 0;
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => warehouse.query<{ n: number }>('SELECT :n AS n', { n })),
    );
    expect(results.map((r) => r[0]?.n)).toEqual([1, 2, 3, 4, 5]);
    expect(server.calls.OpenSession ?? 0).toBe(sessionsBefore);
    expect(server.calls.OpenSession).toBe(1);
  });

  it("reports a SQL error with DuckDB's message and the statement", async () => {
    const error = await failure(warehouse.query('SELECT no_such_column FROM sales'));
    expect(error.reason).toBe('query');
    expect(error.message).toContain('Referenced column "no_such_column" not found');
    expect(error.message).toContain(`https://${server.host}:${server.port}${server.path}`);
    expect(error.message).toContain('in: SELECT no_such_column FROM sales');
    // The session survives a SQL error.
    expect(await warehouse.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('opens the session in the configured catalog and schema, with a host given as a URL', async () => {
    const inGold = openWarehouse(
      configFor(server, { host: `https://${server.host}/`, catalog: 'memory', schema: 'gold' }),
    );
    try {
      expect(await inGold.query('SELECT antecedent, consequent, lift FROM rules')).toEqual([
        { antecedent: 'bread', consequent: 'milk', lift: 0.42 },
      ]);
    } finally {
      await inGold.close();
    }
    const nowhere = openWarehouse(configFor(server, { schema: 'no_such_schema' }));
    try {
      const error = await failure(nowhere.query('SELECT 1'));
      expect(error.message).toContain('no_such_schema');
    } finally {
      await nowhere.close();
    }
  });

  it('rejects a parameter name that is not an identifier', async () => {
    const error = await failure(warehouse.query('SELECT 1', { 'a b': 1 }));
    expect(error.message).toContain('"a b"');
  });
});

describe('openWarehouse failures', () => {
  let server: ThriftServer;

  beforeAll(async () => {
    server = await startThriftServer({
      token: TOKEN,
      duckdb: async (c) => void (await c.run('CREATE TABLE t AS SELECT 1 AS v')),
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('rejects a wrong token with a clear error that does not contain the token', async () => {
    const wrong = 'dapi-wrong-token-9876543210';
    const warehouse = openWarehouse(configFor(server, { token: wrong }));
    try {
      const error = await failure(warehouse.query('SELECT 1'));
      expect(error.reason).toBe('unauthorized');
      expect(error.message).toMatch(/rejected the access token \(HTTP 401\)/);
      expect(error.message).toContain('DATABRICKS_TOKEN');
      expect(`${error.message}\n${error.stack}`).not.toContain(wrong);
    } finally {
      await warehouse.close();
    }
  });

  it('gives a clear error when the server is down, and recovers when it is back', async () => {
    const warehouse = openWarehouse(configFor(server));
    try {
      expect(await warehouse.query('SELECT v FROM t')).toEqual([{ v: 1 }]);
      await server.refuseConnections();
      const started = Date.now();
      // The kept-alive socket was dropped mid-way ("socket hang up"); the next attempt cannot connect at all.
      const dropped = await failure(warehouse.query('SELECT v FROM t'));
      expect(dropped.reason).toBe('unreachable');
      expect(dropped.message).toMatch(/socket hang up|ECONNREFUSED|ECONNRESET/);
      const refused = await failure(warehouse.query('SELECT v FROM t'));
      expect(refused.reason).toBe('unreachable');
      expect(refused.message).toContain(
        `cannot reach the Databricks SQL warehouse at https://${server.host}:${server.port}`,
      );
      expect(refused.message).toContain('ECONNREFUSED');
      expect(`${dropped.message}${refused.message}`).not.toContain(TOKEN);
      expect(Date.now() - started).toBeLessThan(5000);
      await server.resume();
      expect(await warehouse.query('SELECT v FROM t')).toEqual([{ v: 1 }]);
    } finally {
      await server.resume();
      await warehouse.close();
    }
  });

  it('opens a new session when a restarted warehouse has forgotten the old one', async () => {
    const first = await startThriftServer({ token: TOKEN, duckdb: async () => undefined });
    const port = first.port;
    const warehouse = openWarehouse(configFor(first));
    try {
      expect(await warehouse.query("SELECT 'before' AS v")).toEqual([{ v: 'before' }]);
      await first.close();
      const second = await startThriftServer({ token: TOKEN, port, duckdb: async () => undefined });
      try {
        expect(await warehouse.query("SELECT 'after' AS v")).toEqual([{ v: 'after' }]);
        // The first attempt met "Invalid SessionHandle"; the client opened a session and ran it again.
        expect(second.calls).toMatchObject({ ExecuteStatement: 2, OpenSession: 1 });
      } finally {
        await second.close();
      }
    } finally {
      await warehouse.close();
    }
  });

  it('times out a slow query and cancels it on the warehouse', async () => {
    const warehouse = openWarehouse(configFor(server, { queryTimeoutMs: 800 }));
    server.faults.queryDelayMs = 5000;
    try {
      const started = Date.now();
      const error = await failure(warehouse.query('SELECT v FROM t'));
      expect(error.reason).toBe('timeout');
      expect(error.message).toContain('did not finish within 800 ms');
      expect(Date.now() - started).toBeLessThan(2500);
      await expect.poll(() => server.calls.CancelOperation ?? 0).toBeGreaterThanOrEqual(1);
      server.faults.queryDelayMs = 0;
      expect(await warehouse.query('SELECT v FROM t')).toEqual([{ v: 1 }]);
    } finally {
      server.faults.queryDelayMs = 0;
      await warehouse.close();
    }
  });

  it('times out when responses are slow', async () => {
    const warehouse = openWarehouse(configFor(server, { queryTimeoutMs: 500 }));
    server.faults.responseDelayMs = 2000;
    try {
      const error = await failure(warehouse.query('SELECT v FROM t'));
      expect(error.reason).toBe('timeout');
    } finally {
      server.faults.responseDelayMs = 0;
      await warehouse.close();
    }
  });

  it('checks the server certificate unless told not to', async () => {
    const warehouse = openWarehouse(configFor(server, { checkServerCertificate: undefined }));
    try {
      const error = await failure(warehouse.query('SELECT 1'));
      expect(error.reason).toBe('unreachable');
      expect(error.message).toMatch(/self[- ]signed certificate/);
    } finally {
      await warehouse.close();
    }
  });

  it('refuses queries after close', async () => {
    const warehouse = openWarehouse(configFor(server));
    await warehouse.close();
    expect((await failure(warehouse.query('SELECT 1'))).reason).toBe('closed');
  });
});

describe('warehouseConfigFromEnv', () => {
  const env = {
    DATABRICKS_HOST: 'https://adb-123.4.azuredatabricks.net/',
    DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/abc',
    DATABRICKS_TOKEN: 'dapi-secret-value-123',
  };

  it('reads the three variables', () => {
    expect(warehouseConfigFromEnv(env)).toEqual({
      host: 'https://adb-123.4.azuredatabricks.net/',
      httpPath: '/sql/1.0/warehouses/abc',
      token: 'dapi-secret-value-123',
    });
  });

  it('names each missing variable and never prints the token', () => {
    expect(() => warehouseConfigFromEnv({ ...env, DATABRICKS_HTTP_PATH: '' })).toThrow(
      /missing environment variable DATABRICKS_HTTP_PATH/,
    );
    let message = '';
    try {
      warehouseConfigFromEnv({ DATABRICKS_TOKEN: env.DATABRICKS_TOKEN });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/missing environment variables DATABRICKS_HOST, DATABRICKS_HTTP_PATH/);
    expect(message).not.toContain(env.DATABRICKS_TOKEN);
  });
});
