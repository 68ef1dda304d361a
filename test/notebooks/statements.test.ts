import { describe, expect, it } from 'vitest';
import { joinTokens, tokenize } from '../../src/notebooks/lexer.ts';
import { ParamError, renderForDuckDB, sqlLiteral } from '../../src/notebooks/params.ts';
import {
  classifyStatement,
  referencedTables,
  StatementFormError,
  type Statement,
} from '../../src/notebooks/statements.ts';

const classify = (sql: string) => classifyStatement(tokenize(sql));
const text = (s: Statement) => {
  const query = 'query' in s ? s.query : 'tail' in s ? s.tail : undefined;
  return query ? { ...s, [('query' in s ? 'query' : 'tail') as string]: joinTokens(query) } : s;
};
const formError = (sql: string) => {
  try {
    classify(sql);
  } catch (e) {
    if (e instanceof StatementFormError) return e.message;
    throw e;
  }
  throw new Error(`expected ${sql} to be rejected`);
};

describe('classifyStatement', () => {
  it('reads an extraction view with its options, secret() kept unresolved', () => {
    const s = classify(`CREATE OR REPLACE TEMPORARY VIEW raw USING sqlserver OPTIONS (
      host secret('lakehouse', 'host'), port '1433', dbtable = 'dbo.transactions', 'Fetch.Size' 1000, encrypt true,
      password secret('lakehouse', 'password'))`);
    expect(s).toEqual({
      kind: 'extract',
      view: 'raw',
      format: 'sqlserver',
      options: {
        host: "secret('lakehouse', 'host')",
        port: '1433',
        dbtable: 'dbo.transactions',
        'fetch.size': '1000',
        encrypt: 'true',
        password: "secret('lakehouse', 'password')",
      },
    });
    expect(
      classify(`CREATE OR REPLACE TEMP VIEW r USING org.apache.spark.sql.jdbc OPTIONS (dbtable 't')`),
    ).toMatchObject({
      kind: 'extract',
      format: 'org.apache.spark.sql.jdbc',
    });
    expect(classify(`CREATE OR REPLACE TEMP VIEW r USING JDBC OPTIONS (dbtable 't')`)).toMatchObject({
      format: 'jdbc',
    });
  });

  it('reads CREATE OR REPLACE TABLE with USING DELTA and PARTITIONED BY', () => {
    const s = classify(
      '-- lead\nCREATE OR REPLACE TABLE gold.`daily sales` USING DELTA PARTITIONED BY (year, `month`) AS\nWITH x AS (SELECT 1) SELECT * FROM x',
    );
    expect(text(s)).toEqual({
      kind: 'create-table',
      table: { schema: 'gold', name: 'daily sales' },
      partitionBy: ['year', 'month'],
      query: 'WITH x AS (SELECT 1) SELECT * FROM x',
      ifNotExists: false,
    });
    expect(classify('create or replace table s.t as select 1')).toMatchObject({
      kind: 'create-table',
      partitionBy: [],
    });
  });

  it('reads CREATE TABLE IF NOT EXISTS ... AS and CACHE TABLE ... AS', () => {
    expect(
      text(classify('CREATE TABLE IF NOT EXISTS s.t USING DELTA PARTITIONED BY (year) AS SELECT 1 AS year')),
    ).toEqual({
      kind: 'create-table',
      table: { schema: 's', name: 't' },
      partitionBy: ['year'],
      query: 'SELECT 1 AS year',
      ifNotExists: true,
    });
    expect(text(classify('CACHE TABLE lines AS SELECT * FROM raw'))).toEqual({
      kind: 'cache-table',
      view: 'lines',
      query: 'SELECT * FROM raw',
    });
    expect(() => classify('CACHE TABLE lines')).toThrow(/expected AS after CACHE TABLE lines/);
    expect(() => classify('CREATE TABLE s.t AS SELECT 1')).toThrow(/not one of the statement forms/);
  });

  it('reads INSERT INTO, MERGE INTO (with or without alias), temporary views, schemas and queries', () => {
    expect(text(classify('INSERT INTO s.t SELECT * FROM v'))).toEqual({
      kind: 'insert',
      table: { schema: 's', name: 't' },
      query: 'SELECT * FROM v',
    });
    expect(classify('INSERT INTO TABLE s.t VALUES (1)')).toMatchObject({ kind: 'insert' });
    expect(
      text(classify('MERGE INTO s.t AS tgt USING v ON tgt.id = v.id WHEN MATCHED THEN UPDATE SET x = v.x')),
    ).toEqual({
      kind: 'merge',
      table: { schema: 's', name: 't' },
      targetAlias: 'tgt',
      tail: 'USING v ON tgt.id = v.id WHEN MATCHED THEN UPDATE SET x = v.x',
    });
    expect(classify('MERGE INTO s.t USING v ON t.id = v.id WHEN NOT MATCHED THEN INSERT *')).toMatchObject({
      targetAlias: 't',
    });
    expect(text(classify('CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1'))).toEqual({
      kind: 'temp-view',
      view: 'v',
      query: 'SELECT 1',
    });
    expect(classify('CREATE OR REPLACE TEMP VIEW v AS (SELECT 1)')).toMatchObject({ kind: 'temp-view' });
    expect(classify('CREATE SCHEMA IF NOT EXISTS gold')).toEqual({ kind: 'create-schema', schema: 'gold' });
    expect(classify('CREATE DATABASE IF NOT EXISTS gold')).toEqual({ kind: 'create-schema', schema: 'gold' });
    expect(classify('SELECT 1')).toMatchObject({ kind: 'query', assertion: false });
    expect(classify('WITH a AS (SELECT 1) SELECT * FROM a')).toMatchObject({
      kind: 'query',
      assertion: false,
    });
    expect(classify("SELECT assert_true(count(*) > 0, 'empty') FROM t")).toMatchObject({
      kind: 'query',
      assertion: true,
    });
  });

  it('rejects every other statement, listing the forms it knows', () => {
    expect(formError('DROP TABLE gold.x')).toMatch(
      /^'DROP TABLE gold\.x' is not one of the statement forms the local runner executes: CREATE OR REPLACE TEMPORARY VIEW v USING sqlserver/,
    );
    expect(formError('UPDATE s.t SET x = 1')).toMatch(/is not one of the statement forms/);
    expect(formError('CREATE TABLE s.t AS SELECT 1')).toMatch(
      /^'CREATE TABLE s\.t AS SELECT 1' is not one of/,
    );
    expect(formError('CREATE OR REPLACE VIEW v AS SELECT 1')).toMatch(/is not one of the statement forms/);
    expect(formError('USE gold')).toMatch(/^'USE gold' is not one of/);
  });

  it('explains what is wrong inside a known form', () => {
    expect(formError('INSERT OVERWRITE s.t SELECT 1')).toBe(
      "expected INSERT INTO (INSERT OVERWRITE is not a supported form), found 'OVERWRITE' (line 1)",
    );
    expect(formError('INSERT INTO s.t (a) SELECT 1')).toBe(
      "expected a query (SELECT, WITH, VALUES or FROM) after INSERT INTO s.t, found '(' (line 1)",
    );
    expect(formError('CREATE OR REPLACE TABLE t AS SELECT 1')).toBe(
      "expected a two-part table name schema.table after CREATE OR REPLACE TABLE, found 't', found 'AS' (line 1)",
    );
    expect(formError('CREATE OR REPLACE TABLE s.t USING PARQUET AS SELECT 1')).toBe(
      "expected USING DELTA (tables are Delta tables), found 'PARQUET' (line 1)",
    );
    expect(formError('CREATE OR REPLACE TABLE s.t PARTITIONED BY (a AS SELECT 1')).toBe(
      "expected ')' to close PARTITIONED BY (...), found 'AS' (line 1)",
    );
    expect(formError("CREATE OR REPLACE TABLE s.t\nCOMMENT 'x' AS SELECT 1")).toBe(
      "expected AS before the query of CREATE OR REPLACE TABLE s.t, found 'COMMENT' (line 2)",
    );
    expect(formError('CREATE OR REPLACE TABLE s.t AS DELETE FROM x')).toBe(
      "expected a query (SELECT, WITH, VALUES or FROM) after AS, found 'DELETE' (line 1)",
    );
    expect(formError("CREATE OR REPLACE TEMP VIEW v USING parquet OPTIONS (path 'x')")).toBe(
      'expected USING sqlserver | jdbc | org.apache.spark.sql.jdbc for an extraction view, found USING parquet',
    );
    expect(formError("CREATE OR REPLACE TEMP VIEW v USING jdbc OPTIONS (dbtable upper('x'))")).toBe(
      "expected a string, number, boolean or secret('scope', 'key') as the value of option dbtable, found 'upper' (line 1)",
    );
    expect(formError("CREATE OR REPLACE TEMP VIEW v USING jdbc OPTIONS (user secret('only-scope'))")).toBe(
      "expected secret('scope', 'key') with two arguments for option user, found secret('only-scope')",
    );
    expect(formError("CREATE OR REPLACE TEMP VIEW v USING jdbc OPTIONS (a 'x' b 'y')")).toBe(
      "expected ',' or ')' after the value of option a, found 'b' (line 1)",
    );
    expect(formError("CREATE OR REPLACE TEMP VIEW v USING jdbc OPTIONS (a 'x') AS SELECT 1")).toBe(
      "expected the end of the statement after OPTIONS (...), found 'AS' (line 1)",
    );
    expect(formError('CREATE OR REPLACE TEMP VIEW v SELECT 1')).toBe(
      "expected AS or USING after CREATE OR REPLACE TEMPORARY VIEW v, found 'SELECT' (line 1)",
    );
    expect(formError('CREATE SCHEMA gold')).toBe(
      "expected CREATE SCHEMA IF NOT EXISTS, found 'gold' (line 1)",
    );
    expect(formError('MERGE INTO s.t tgt ON x')).toBe(
      "expected USING after MERGE INTO s.t tgt, found 'ON' (line 1)",
    );
  });
});

describe('renderForDuckDB', () => {
  const render = (sql: string, params = {}) => renderForDuckDB(tokenize(sql), params);

  it('renders parameters as typed literals, typed from the values', () => {
    expect(
      render('SELECT :a, :b, :c, :d, :e', { a: 'x', b: 0.001, c: 15, d: true, e: 12345678901234567890n }),
    ).toBe(
      "SELECT (CAST('x' AS VARCHAR)), (CAST('0.001' AS DOUBLE)), (CAST('15' AS BIGINT)), (TRUE), (CAST('12345678901234567890' AS BIGINT))",
    );
  });

  it('never lets a string value escape its literal', () => {
    expect(render('SELECT :s', { s: "x'); DROP TABLE t; --" })).toBe(
      "SELECT (CAST('x''); DROP TABLE t; --' AS VARCHAR))",
    );
    expect(() => sqlLiteral('s', 'a\0b')).toThrow('parameter :s contains a NUL character');
    expect(() => sqlLiteral('n', Number.NaN)).toThrow('parameter :n must be a finite number, got NaN');
    expect(() => sqlLiteral('n', Infinity)).toThrow('parameter :n must be a finite number, got Infinity');
  });

  it('names a parameter without a value, with the parameters given', () => {
    let error: unknown;
    try {
      render('SELECT 1\nWHERE x > :limit', { a: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParamError);
    expect(error).toMatchObject({ message: 'parameter :limit has no value (parameters given: a)', line: 2 });
    expect(() => render('SELECT :x')).toThrow('parameter :x has no value (parameters given: none)');
  });

  it('turns `names` into "names" and rejects "double quotes"', () => {
    expect(render('SELECT `a "b"`, `c``d` FROM t')).toBe('SELECT "a ""b""", "c`d" FROM t');
    expect(() => render('SELECT "x" FROM t')).toThrow(
      '"x" is a string in Spark SQL but a name in DuckDB: write strings in single quotes and names in backquotes',
    );
  });
});

describe('referencedTables', () => {
  it('finds schema.table names, not columns of schema.table.column or function calls', () => {
    const names = referencedTables(
      tokenize('SELECT a.x, s.t.c, f.g(1) FROM silver.transactions a JOIN `gold`.`b c` ON 1 = 1, other.t x'),
    );
    expect(names.map((n) => `${n.schema}.${n.name}`)).toEqual([
      'a.x',
      'silver.transactions',
      'gold.b c',
      'other.t',
    ]);
  });
});
