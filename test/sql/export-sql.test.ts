// The SQL each engine's table export sends, as exact text, and the type mappings behind it. (The statements
// run against PGlite, PostgreSQL and MariaDB in test/sql/export-*.test.ts; against SQL Server only in the
// GitHub CI job "sqlserver", so for SQL Server this file is where every statement is checked here.)
import { describe, expect, it } from 'vitest';
import { lookUpTable, textRowsToCsv, type CatalogRow } from '../../src/sql/export-common.ts';
import {
  duckdbTypeForMysql,
  mysqlColumnsQuery,
  mysqlExportQuery,
  type MysqlColumn,
  type MysqlTable,
} from '../../src/sql/mysql/export.ts';
import { duckdbTypeForPostgres, postgresCopy, type PostgresTable } from '../../src/sql/postgres/export.ts';
import {
  duckdbTypeForSqlServer,
  findSqlServerTable,
  sqlServerColumnsQuery,
  sqlServerExportQuery,
  sqlServerExportValue,
  type SqlServerColumn,
} from '../../src/sql/sqlserver/export.ts';
import type { Statement } from '../../src/sql/types.ts';

const catalog = { table_schema: 'sales', table_name: 'Odd]Name' };

describe('SQL Server export', () => {
  const column = (name: string, data_type: string, precision?: number, scale?: number): SqlServerColumn => ({
    ...catalog,
    name,
    data_type,
    numeric_precision: precision ?? null,
    numeric_scale: scale ?? null,
  });
  const columns = [
    column('b', 'bit'),
    column('u1', 'tinyint'),
    column('i2', 'smallint'),
    column('i4', 'int'),
    column('i8', 'bigint'),
    column('dec', 'decimal', 38, 10),
    column('num', 'numeric', 12, 4),
    column('m', 'money'),
    column('sm', 'smallmoney'),
    column('f8', 'float'),
    column('f4', 'real'),
    column('d', 'date'),
    column('dt', 'datetime'),
    column('dt2', 'datetime2'),
    column('sdt', 'smalldatetime'),
    column('dto', 'datetimeoffset'),
    column('tm', 'time'),
    column('c', 'char'),
    column('vc', 'varchar'),
    column('t', 'text'),
    column('nc', 'nchar'),
    column('nvc', 'nvarchar'),
    column('nt', 'ntext'),
    column('uid', 'uniqueidentifier'),
    column('x', 'xml'),
    column('we]ird', 'nvarchar'),
  ];

  it('reads the column types from INFORMATION_SCHEMA with the names as parameters', () => {
    expect(sqlServerColumnsQuery('dbo', 'transactions')).toEqual({
      sql: `SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS name,
        DATA_TYPE AS data_type, NUMERIC_PRECISION AS numeric_precision, NUMERIC_SCALE AS numeric_scale
      FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @p1 AND TABLE_NAME = @p2
      ORDER BY ORDINAL_POSITION`,
      params: ['dbo', 'transactions'],
    });
  });

  it('maps every type to DuckDB, and names a column it cannot map', () => {
    expect(columns.map((c) => `${c.name} ${duckdbTypeForSqlServer(c)}`)).toEqual([
      'b BOOLEAN',
      'u1 UTINYINT',
      'i2 SMALLINT',
      'i4 INTEGER',
      'i8 BIGINT',
      'dec DECIMAL(38,10)',
      'num DECIMAL(12,4)',
      'm DECIMAL(19,4)',
      'sm DECIMAL(10,4)',
      'f8 DOUBLE',
      'f4 FLOAT',
      'd DATE',
      'dt TIMESTAMP',
      'dt2 TIMESTAMP',
      'sdt TIMESTAMP',
      'dto TIMESTAMPTZ',
      'tm TIME',
      'c VARCHAR',
      'vc VARCHAR',
      't VARCHAR',
      'nc VARCHAR',
      'nvc VARCHAR',
      'nt VARCHAR',
      'uid VARCHAR',
      'x VARCHAR',
      'we]ird VARCHAR',
    ]);
    for (const type of ['varbinary', 'image', 'geography', 'sql_variant'])
      expect(() => duckdbTypeForSqlServer(column('raw', type))).toThrow(
        `column raw has SQL Server type ${type}, which the extraction does not map to DuckDB (supported: decimal(p,s), numeric(p,s), bit, tinyint,`,
      );
  });

  it('selects every value as text with explicit styles, names quoted', () => {
    const table = {
      schema: 'sales',
      name: 'Odd]Name',
      columns: columns.map((c) => ({ name: c.name, type: duckdbTypeForSqlServer(c), source: c })),
    };
    const values = columns.map(sqlServerExportValue);
    expect(sqlServerExportQuery(table)).toBe(`SELECT ${values.join(', ')} FROM [sales].[Odd]]Name]`);
    expect(values).toEqual([
      "CASE [b] WHEN 1 THEN 'true' WHEN 0 THEN 'false' END",
      'CONVERT(varchar(20), [u1])',
      'CONVERT(varchar(20), [i2])',
      'CONVERT(varchar(20), [i4])',
      'CONVERT(varchar(20), [i8])',
      'CONVERT(varchar(41), [dec])',
      'CONVERT(varchar(41), [num])',
      'CONVERT(varchar(30), [m], 2)',
      'CONVERT(varchar(30), [sm], 2)',
      'CONVERT(varchar(30), [f8], 3)',
      'CONVERT(varchar(30), [f4], 3)',
      'CONVERT(char(10), [d], 23)',
      'CONVERT(varchar(27), [dt], 126)',
      'CONVERT(varchar(27), [dt2], 126)',
      'CONVERT(varchar(27), [sdt], 126)',
      "CONVERT(varchar(27), CAST(SWITCHOFFSET([dto], '+00:00') AS datetime2(7)), 126) + 'Z'",
      'CONVERT(varchar(16), [tm])',
      '[c]',
      '[vc]',
      'CONVERT(nvarchar(max), [t])',
      '[nc]',
      '[nvc]',
      'CONVERT(nvarchar(max), [nt])',
      'CONVERT(char(36), [uid])',
      'CONVERT(nvarchar(max), [x])',
      '[we]]ird]',
    ]);
  });

  it('looks the table up in the default schema, then in lower case, and says where it looked', async () => {
    const sent: Statement[] = [];
    const query = async (statement: Statement) => {
      sent.push(statement);
      return statement.params[1] === 'orders'
        ? [{ table_schema: 'dbo', table_name: 'orders', name: 'id', data_type: 'int' }]
        : [];
    };
    const found = await findSqlServerTable(query, { name: 'ORDERS' }, 'dbo', 'SQL Server sa@db:1433/x');
    expect(sent.map((s) => s.params)).toEqual([
      ['dbo', 'ORDERS'],
      ['dbo', 'orders'],
    ]);
    expect(found).toMatchObject({
      schema: 'dbo',
      name: 'orders',
      columns: [{ name: 'id', type: 'INTEGER' }],
    });
    await expect(
      findSqlServerTable(query, { schema: 'x', name: 'gone' }, 'dbo', 'SQL Server sa@db:1433/x'),
    ).rejects.toThrow(
      'table x.gone does not exist in SQL Server sa@db:1433/x (no table or view of that name)',
    );
    await expect(findSqlServerTable(query, { name: 'a]b' }, 'dbo', 'here')).rejects.toThrow(
      'table "a]b": expected letters, digits and _',
    );
    expect(sent).toHaveLength(3);
  });
});

describe('MySQL export', () => {
  const column = (
    name: string,
    data_type: string,
    column_type: string,
    precision: number | null = null,
    scale: number | null = null,
  ): MysqlColumn => ({
    ...catalog,
    name,
    data_type,
    column_type,
    numeric_precision: precision,
    numeric_scale: scale,
  });

  it('maps MySQL and MariaDB catalog types, TINYINT(1) as BOOLEAN, and names a column it cannot map', () => {
    const mapped = [
      column('b', 'tinyint', 'tinyint(1)'),
      column('i1', 'tinyint', 'tinyint(4)'),
      column('u1', 'tinyint', 'tinyint(3) unsigned'),
      column('u1z', 'tinyint', 'tinyint(1) unsigned zerofill'),
      column('i2', 'smallint', 'smallint'),
      column('u2', 'smallint', 'smallint unsigned'),
      column('i3', 'mediumint', 'mediumint(8) unsigned'),
      column('i4', 'int', 'int(11)'),
      column('u4', 'int', 'int(10) unsigned'),
      column('i8', 'bigint', 'bigint(20)'),
      column('u8', 'bigint', 'bigint unsigned'),
      column('dec', 'decimal', 'decimal(38,10)', 38, 10),
      column('f4', 'float', 'float'),
      column('f8', 'double', 'double'),
      column('d', 'date', 'date'),
      column('dt', 'datetime', 'datetime(6)'),
      column('ts', 'timestamp', 'timestamp(6)'),
      column('t', 'mediumtext', 'mediumtext'),
      column('e', 'enum', "enum('a','b')"),
      column('j', 'json', 'json'),
    ];
    expect(mapped.map((c) => `${c.name} ${duckdbTypeForMysql(c)}`)).toEqual([
      'b BOOLEAN',
      'i1 TINYINT',
      'u1 UTINYINT',
      'u1z UTINYINT',
      'i2 SMALLINT',
      'u2 USMALLINT',
      'i3 INTEGER',
      'i4 INTEGER',
      'u4 UINTEGER',
      'i8 BIGINT',
      'u8 UBIGINT',
      'dec DECIMAL(38,10)',
      'f4 FLOAT',
      'f8 DOUBLE',
      'd DATE',
      'dt TIMESTAMP',
      'ts TIMESTAMPTZ',
      't VARCHAR',
      'e VARCHAR',
      'j VARCHAR',
    ]);
    for (const [type, columnType] of [
      ['decimal', 'decimal(65,2)'],
      ['time', 'time'],
      ['year', 'year(4)'],
      ['bit', 'bit(1)'],
      ['blob', 'blob'],
    ] as const) {
      const c = column(
        'raw',
        type,
        columnType,
        type === 'decimal' ? 65 : null,
        type === 'decimal' ? 2 : null,
      );
      expect(() => duckdbTypeForMysql(c)).toThrow(
        `column raw has MySQL type ${columnType}, which the extraction does not map to DuckDB (supported: tinyint(1) as boolean,`,
      );
    }
  });

  it("reads the catalog with the names as parameters (no schema: the connection's database)", () => {
    expect(mysqlColumnsQuery(undefined, 'transactions').params).toEqual([null, 'transactions']);
    expect(mysqlColumnsQuery('sales', 'orders')).toEqual({
      sql: `SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS name,
        DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, NUMERIC_PRECISION AS numeric_precision,
        NUMERIC_SCALE AS numeric_scale
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
      ORDER BY ORDINAL_POSITION`,
      params: ['sales', 'orders'],
    });
  });

  it('selects every value as text, names quoted', () => {
    const source = [
      column('b', 'tinyint', 'tinyint(1)'),
      column('f4', 'float', 'float'),
      column('ts', 'timestamp', 'timestamp(6)'),
      column('d', 'date', 'date'),
      column('we`ird', 'json', 'longtext'),
    ];
    const table: MysqlTable = {
      schema: 'sales',
      name: 'Odd`Name',
      columns: source.map((c) => ({ name: c.name, type: duckdbTypeForMysql(c), source: c })),
    };
    expect(mysqlExportQuery(table)).toBe(
      "SELECT CASE WHEN `b` <> 0 THEN 'true' WHEN `b` = 0 THEN 'false' END, CAST(CAST(`f4` AS DOUBLE) AS CHAR), " +
        "CONCAT(`ts`, '+00'), CAST(`d` AS CHAR), CAST(`we``ird` AS CHAR) FROM `sales`.`Odd``Name`",
    );
  });
});

describe('PostgreSQL export', () => {
  const table: PostgresTable = {
    schema: 'Sales',
    name: 'odd"name',
    kind: 'r',
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'ok', type: 'BOOLEAN' },
      { name: 'we"ird', type: 'VARCHAR' },
    ],
  };

  it('copies a query (booleans as true/false), to STDOUT or to a blob in page ranges', () => {
    expect(postgresCopy(table, { to: 'STDOUT' })).toBe(
      `COPY (SELECT "id", "ok"::text, "we""ird" FROM "Sales"."odd""name") TO STDOUT WITH (FORMAT csv, HEADER)`,
    );
    expect(postgresCopy(table, { to: "'/dev/blob'", blocks: { from: 0, to: 4 } })).toBe(
      `COPY (SELECT "id", "ok"::text, "we""ird" FROM "Sales"."odd""name" WHERE ctid >= '(0,0)'::tid AND ctid < '(4,0)'::tid) TO '/dev/blob' WITH (FORMAT csv, HEADER)`,
    );
    expect(postgresCopy(table, { to: "'/dev/blob'", header: false, blocks: { from: 4 } })).toBe(
      `COPY (SELECT "id", "ok"::text, "we""ird" FROM "Sales"."odd""name" WHERE ctid >= '(4,0)'::tid) TO '/dev/blob' WITH (FORMAT csv)`,
    );
  });

  it('maps the catalog types, and refuses the rest by name', () => {
    expect(() => duckdbTypeForPostgres('numeric(40,2)', 'amount')).toThrow(
      /^column amount has PostgreSQL type numeric\(40,2\)/,
    );
    expect(() => duckdbTypeForPostgres('numeric', 'amount')).toThrow(
      /^column amount has PostgreSQL type numeric,/,
    );
    expect(() => duckdbTypeForPostgres('interval', 'gap')).toThrow(
      /^column gap has PostgreSQL type interval, which the extraction does not map to DuckDB \(supported: bigint,/,
    );
    expect(duckdbTypeForPostgres('numeric(38,10)', 'x')).toBe('DECIMAL(38,10)');
    expect(duckdbTypeForPostgres('timestamp(3) without time zone', 'x')).toBe('TIMESTAMP');
    expect(duckdbTypeForPostgres('timestamp with time zone', 'x')).toBe('TIMESTAMPTZ');
    expect(duckdbTypeForPostgres('time without time zone', 'x')).toBe('TIME');
    expect(duckdbTypeForPostgres('character varying', 'x')).toBe('VARCHAR');
    expect(duckdbTypeForPostgres('character(2)', 'x')).toBe('VARCHAR');
  });
});

describe('the catalog lookup every engine shares', () => {
  const rows = (...tables: string[]): CatalogRow[] =>
    tables.map((t) => ({ table_schema: 'dbo', table_name: t }));

  it('takes the exact spelling first, then a single case-insensitive match, then the lower-case spelling', async () => {
    const asked: string[] = [];
    const lookup =
      (found: Record<string, CatalogRow[]>) => async (_schema: string | undefined, name: string) => {
        asked.push(name);
        return found[name] ?? [];
      };
    expect(
      await lookUpTable({ schema: 'dbo', name: 'Orders' }, lookup({ Orders: rows('orders', 'Orders') })),
    ).toEqual(rows('Orders'));
    // An engine that compares names without case answers with the table as it is spelled.
    expect(await lookUpTable({ schema: 'dbo', name: 'ORDERS' }, lookup({ ORDERS: rows('Orders') }))).toEqual(
      rows('Orders'),
    );
    expect(await lookUpTable({ schema: 'dbo', name: 'ORDERS' }, lookup({ orders: rows('orders') }))).toEqual(
      rows('orders'),
    );
    expect(await lookUpTable({ schema: 'dbo', name: 'orders' }, lookup({}))).toBeUndefined();
    expect(asked).toEqual(['Orders', 'ORDERS', 'ORDERS', 'orders', 'orders']);
    await expect(
      lookUpTable({ schema: 'dbo', name: 'ORDERS' }, lookup({ ORDERS: rows('Orders', 'orders') })),
    ).rejects.toThrow('table dbo.ORDERS: dbo.Orders and dbo.orders all match; name one with its exact case');
  });
});

describe('rows of text as CSV', () => {
  async function csv(rows: unknown[][]): Promise<string> {
    async function* source() {
      yield* rows;
    }
    let text = '';
    for await (const chunk of textRowsToCsv(
      [
        { name: 'a', type: 'VARCHAR' },
        { name: 'b"', type: 'VARCHAR' },
      ],
      source(),
    ))
      text += chunk.toString();
    return text;
  }

  it('quotes every value, so that NULL (unquoted, empty) differs from the empty string', async () => {
    expect(
      await csv([
        [null, ''],
        ['x,"y"', 'line\r\nbreak'],
      ]),
    ).toBe('"a","b"""\n,""\n"x,""y""","line\r\nbreak"\n');
  });

  it('refuses a value the export query did not turn into text', async () => {
    await expect(csv([['1', 2]])).rejects.toThrow(
      'column b": expected text from the export query, found number',
    );
  });
});
