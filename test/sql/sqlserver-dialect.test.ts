// Every statement the SQL Server dialect writes, as exact text and parameters, and the connection settings it
// derives. (The statements run against a real SQL Server in test/load/sqlserver-load.test.ts, in the GitHub CI
// job "sqlserver"; none can run here.)
import { describe, expect, it } from 'vitest';
import { objectKey } from '../../src/sql/dialect-common.ts';
import { sqlServerConfig, type SqlServerTarget } from '../../src/sql/sqlserver/session.ts';
import { SqlServerDialect } from '../../src/sql/sqlserver/dialect.ts';
import type { AuditRecord, Statement } from '../../src/sql/types.ts';
import { loadTables } from '../../src/stages/load.ts';
import { registerSecret, redact } from '../../src/util/secrets.ts';
import { ALL_TYPE_COLUMNS, allTypesDataset } from '../helpers/datasets.ts';

const prices = allTypesDataset(
  'prices',
  ['sku', 'day'],
  { mode: 'merge', table: 'prices' },
  ALL_TYPE_COLUMNS.map((c) => (c.name === 'units' ? { ...c, nullable: false } : c)),
);
const merge = loadTables(prices);
const append = loadTables({ ...prices, keys: [], load: { mode: 'append', table: 'price_log' } });
const dialect = new SqlServerDialect('sales');
const record: AuditRecord = {
  dataset: 'prices',
  target: 'prices',
  bucket: 'gs://bucket/raw',
  objectName: "prices/o'brien.csv",
  generation: '1712345678901234',
  md5: 'rL0Y20zC+Fzt72VPzMSk2A==',
  size: 1234,
  runId: '42-1',
};
const KEY = objectKey(record);

/** A statement's text with its indentation collapsed, for exact comparison. */
const flat = (s: Statement | string) => (typeof s === 'string' ? s : s.sql).replace(/\s+/g, ' ').trim();

describe('SqlServerDialect', () => {
  it('quotes identifiers with brackets and refuses any name that would need more than that', () => {
    expect(dialect.quote('select')).toBe('[select]');
    expect(dialect.table('Order')).toBe('[sales].[Order]');
    expect(dialect.staging(merge)).toBe('#lakehouse_staging');
    for (const name of ['a]b', 'a;b', 'a--b', "a'b", 'a"b', 'a b', '1a', '', 'x'.repeat(64)])
      expect(() => dialect.quote(name)).toThrow(/expected letters, digits and _/);
    expect(() => new SqlServerDialect('dbo]; DROP TABLE x; --')).toThrow(/schema/);
  });

  it('creates the schema, the target with typed columns and its key, the index, audit and quarantine', () => {
    expect(dialect.ensureTables(merge).map(flat)).toEqual([
      "IF SCHEMA_ID(N'sales') IS NULL EXEC(N'CREATE SCHEMA [sales]')",
      "IF OBJECT_ID(N'[sales].[prices]', N'U') IS NULL CREATE TABLE [sales].[prices] ([sku] NVARCHAR(255) NOT NULL, [day] DATE NOT NULL, [price] DECIMAL(10,2) NULL, [units] BIGINT NOT NULL, [ratio] FLOAT NULL, [active] BIT NULL, [seen_at] DATETIME2(6) NULL, [note] NVARCHAR(MAX) NULL, [_source_object] NVARCHAR(850) NOT NULL, [_source_line] BIGINT NOT NULL, PRIMARY KEY ([sku], [day]))",
      "IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'lakehouse_source_object' AND object_id = OBJECT_ID(N'[sales].[prices]')) CREATE INDEX [lakehouse_source_object] ON [sales].[prices] ([_source_object])",
      "IF OBJECT_ID(N'[sales].[lakehouse_load_audit]', N'U') IS NULL CREATE TABLE [sales].[lakehouse_load_audit] ( id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY, object_key CHAR(64) NOT NULL UNIQUE, dataset NVARCHAR(255) NOT NULL, target_table NVARCHAR(255) NOT NULL, bucket NVARCHAR(2048) NOT NULL, object_name NVARCHAR(1024) NOT NULL, generation NVARCHAR(64) NOT NULL, md5 NVARCHAR(64) NOT NULL, size BIGINT NOT NULL, rows_in BIGINT NULL, rows_loaded BIGINT NULL, rows_quarantined BIGINT NULL, rows_replaced BIGINT NULL, blank_lines BIGINT NULL, run_id NVARCHAR(255) NOT NULL, loaded_at DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME())",
      "IF OBJECT_ID(N'[sales].[lakehouse_quarantine]', N'U') IS NULL CREATE TABLE [sales].[lakehouse_quarantine] ( id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY, dataset NVARCHAR(255) NOT NULL, bucket NVARCHAR(2048) NOT NULL, object_name NVARCHAR(1024) NOT NULL, generation NVARCHAR(64) NOT NULL, line_number BIGINT NOT NULL, raw_text NVARCHAR(MAX) NOT NULL, raw_bytes VARBINARY(MAX) NULL, reason NVARCHAR(MAX) NOT NULL, run_id NVARCHAR(255) NOT NULL, quarantined_at DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME())",
    ]);
    // Append mode: no primary key, and text columns are not limited.
    expect(flat(dialect.ensureTables(append)[1]!)).toBe(
      "IF OBJECT_ID(N'[sales].[price_log]', N'U') IS NULL CREATE TABLE [sales].[price_log] ([sku] NVARCHAR(MAX) NULL, [day] DATE NULL, [price] DECIMAL(10,2) NULL, [units] BIGINT NOT NULL, [ratio] FLOAT NULL, [active] BIT NULL, [seen_at] DATETIME2(6) NULL, [note] NVARCHAR(MAX) NULL, [_source_object] NVARCHAR(850) NOT NULL, [_source_line] BIGINT NOT NULL)",
    );
  });

  it('creates staging as a temporary table of text in the database collation, dropping a leftover first', () => {
    expect(dialect.createStaging(merge).map(flat)).toEqual([
      "IF OBJECT_ID(N'tempdb..#lakehouse_staging') IS NOT NULL DROP TABLE #lakehouse_staging",
      'CREATE TABLE #lakehouse_staging ([lakehouse_line] BIGINT NOT NULL PRIMARY KEY, [lakehouse_reason] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [lakehouse_raw] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [lakehouse_raw_hex] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [sku] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [day] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [price] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [units] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [ratio] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [active] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [seen_at] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL, [note] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT NULL)',
    ]);
  });

  it('reads, claims and completes the audit row with parameters only', () => {
    expect(dialect.lastLoad(merge, record.bucket, record.objectName)).toEqual({
      sql: 'SELECT TOP (1) md5, generation, loaded_at FROM [sales].[lakehouse_load_audit] WHERE bucket = @p1 AND object_name = @p2 AND rows_in IS NOT NULL ORDER BY id DESC',
      params: ['gs://bucket/raw', "prices/o'brien.csv"],
    });
    expect(dialect.insertAudit(merge, record)).toEqual({
      sql: 'INSERT INTO [sales].[lakehouse_load_audit] (object_key, dataset, target_table, bucket, object_name, generation, md5, size, run_id) VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9)',
      params: [
        KEY,
        'prices',
        'prices',
        'gs://bucket/raw',
        "prices/o'brien.csv",
        '1712345678901234',
        'rL0Y20zC+Fzt72VPzMSk2A==',
        1234,
        '42-1',
      ],
    });
    expect(KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(objectKey({ ...record, generation: '1712345678901235' })).not.toBe(KEY);
    const counts = { rowsIn: 10, rowsLoaded: 7, rowsQuarantined: 3, rowsReplaced: 0, blankLines: 1 };
    expect(dialect.finishAudit(merge, record, counts)).toEqual({
      sql: 'UPDATE [sales].[lakehouse_load_audit] SET rows_in = @p1, rows_loaded = @p2, rows_quarantined = @p3, rows_replaced = @p4, blank_lines = @p5, loaded_at = SYSUTCDATETIME() WHERE object_key = @p6',
      params: [10, 7, 3, 0, 1, KEY],
    });
  });

  it('recognises a unique-key violation (another load claimed the object first)', () => {
    expect(dialect.isUniqueViolation({ number: 2627 })).toBe(true);
    expect(dialect.isUniqueViolation({ originalError: { info: { number: 2601 } } })).toBe(true);
    expect(dialect.isUniqueViolation({ number: 547 })).toBe(false);
    expect(dialect.isUniqueViolation(undefined)).toBe(false);
  });

  it("deletes an object's earlier rows and quarantine", () => {
    expect(dialect.deleteObjectRows(append, record.objectName)).toEqual({
      sql: 'DELETE FROM [sales].[price_log] WHERE [_source_object] = @p1',
      params: ["prices/o'brien.csv"],
    });
    expect(dialect.deleteObjectQuarantine(merge, record.bucket, record.objectName)).toEqual({
      sql: 'DELETE FROM [sales].[lakehouse_quarantine] WHERE bucket = @p1 AND object_name = @p2',
      params: ['gs://bucket/raw', "prices/o'brien.csv"],
    });
  });

  it('marks text keys longer than the index holds, in merge mode only', () => {
    expect(dialect.markInvalidRows(append)).toEqual([]);
    expect(dialect.markInvalidRows(merge)).toEqual([
      {
        problem: 'bad value in sku',
        statement: {
          sql: 'UPDATE #lakehouse_staging SET [lakehouse_reason] = @p1 WHERE [lakehouse_reason] IS NULL AND DATALENGTH([sku]) > @p2',
          params: ['sku: longer than 255 characters, the most a key column holds in SQL Server', 510],
        },
      },
    ]);
    // Three text keys and a date share the 900-byte key: (900 - 17) / 2 / 3 = 147 characters each.
    const three = loadTables({
      ...prices,
      columns: [
        ...prices.columns,
        { name: 'a', type: 'string', nullable: true },
        { name: 'b', type: 'string', nullable: true },
      ],
      keys: ['sku', 'day', 'a', 'b'],
    });
    expect(dialect.keyTextLength(three)).toBe(147);
    expect(flat(dialect.ensureTables(three)[1]!)).toContain('[sku] NVARCHAR(147) NOT NULL');
  });

  it('marks superseded duplicate keys, comparing keys as the target types them', () => {
    expect(dialect.markSupersededKeys(merge).map((s) => ({ sql: flat(s), params: s.params }))).toEqual([
      {
        sql: "UPDATE s SET [lakehouse_reason] = CONCAT(N'duplicate key (', @p1, N'): superseded by line ', d.keep_line) FROM #lakehouse_staging AS s JOIN (SELECT [lakehouse_line], MAX([lakehouse_line]) OVER (PARTITION BY CAST([sku] AS NVARCHAR(255)), CONVERT(DATE, [day], 23)) AS keep_line FROM #lakehouse_staging WHERE [lakehouse_reason] IS NULL) AS d ON s.[lakehouse_line] = d.[lakehouse_line] WHERE d.[lakehouse_line] <> d.keep_line",
        params: ['sku, day'],
      },
    ]);
  });

  it('merges with HOLDLOCK, casting every type with language-independent styles', () => {
    const [statement, ...rest] = dialect.applyRows(merge, record.objectName);
    expect(rest).toEqual([]);
    expect({ sql: flat(statement!), params: statement!.params }).toEqual({
      sql: "MERGE INTO [sales].[prices] WITH (HOLDLOCK) AS t USING (SELECT CAST([sku] AS NVARCHAR(255)) AS [sku], CONVERT(DATE, [day], 23) AS [day], CAST([price] AS DECIMAL(10,2)) AS [price], CAST([units] AS BIGINT) AS [units], CAST([ratio] AS FLOAT) AS [ratio], CAST([active] AS BIT) AS [active], CONVERT(DATETIME2(6), REPLACE([seen_at], N'Z', N''), 126) AS [seen_at], [note] AS [note], @p1 AS [_source_object], [lakehouse_line] AS [_source_line] FROM #lakehouse_staging WHERE [lakehouse_reason] IS NULL) AS s ON t.[sku] = s.[sku] AND t.[day] = s.[day] WHEN MATCHED THEN UPDATE SET [price] = s.[price], [units] = s.[units], [ratio] = s.[ratio], [active] = s.[active], [seen_at] = s.[seen_at], [note] = s.[note], [_source_object] = s.[_source_object], [_source_line] = s.[_source_line] WHEN NOT MATCHED BY TARGET THEN INSERT ([sku], [day], [price], [units], [ratio], [active], [seen_at], [note], [_source_object], [_source_line]) VALUES (s.[sku], s.[day], s.[price], s.[units], s.[ratio], s.[active], s.[seen_at], s.[note], s.[_source_object], s.[_source_line]);",
      params: ["prices/o'brien.csv"],
    });
  });

  it('appends in line order', () => {
    expect(
      dialect.applyRows(append, record.objectName).map((s) => ({ sql: flat(s), params: s.params })),
    ).toEqual([
      {
        sql: "INSERT INTO [sales].[price_log] ([sku], [day], [price], [units], [ratio], [active], [seen_at], [note], [_source_object], [_source_line]) SELECT [sku] AS [sku], CONVERT(DATE, [day], 23) AS [day], CAST([price] AS DECIMAL(10,2)) AS [price], CAST([units] AS BIGINT) AS [units], CAST([ratio] AS FLOAT) AS [ratio], CAST([active] AS BIT) AS [active], CONVERT(DATETIME2(6), REPLACE([seen_at], N'Z', N''), 126) AS [seen_at], [note] AS [note], @p1 AS [_source_object], [lakehouse_line] AS [_source_line] FROM #lakehouse_staging WHERE [lakehouse_reason] IS NULL ORDER BY [lakehouse_line]",
        params: ["prices/o'brien.csv"],
      },
    ]);
  });

  it('moves bad rows to quarantine', () => {
    const s = dialect.insertQuarantine(merge, record);
    expect({ sql: flat(s), params: s.params }).toEqual({
      sql: "INSERT INTO [sales].[lakehouse_quarantine] (dataset, bucket, object_name, generation, line_number, raw_text, raw_bytes, reason, run_id) SELECT @p1, @p2, @p3, @p4, [lakehouse_line], COALESCE([lakehouse_raw], N''), CONVERT(VARBINARY(MAX), CAST([lakehouse_raw_hex] AS VARCHAR(MAX)), 2), [lakehouse_reason], @p5 FROM #lakehouse_staging WHERE [lakehouse_reason] IS NOT NULL ORDER BY [lakehouse_line]",
      params: ['prices', 'gs://bucket/raw', "prices/o'brien.csv", '1712345678901234', '42-1'],
    });
  });

  it('adds raw_bytes to a quarantine table created before it, once', () => {
    expect(dialect.addQuarantineBytes(merge)).toBe(
      "IF COL_LENGTH(N'[sales].[lakehouse_quarantine]', N'raw_bytes') IS NULL ALTER TABLE [sales].[lakehouse_quarantine] ADD raw_bytes VARBINARY(MAX) NULL",
    );
    const exists = dialect.columnExists('lakehouse_quarantine', 'raw_bytes');
    expect(exists).toEqual({
      sql: 'SELECT count(*) AS n FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @p1 AND TABLE_NAME = @p2 AND COLUMN_NAME = @p3',
      params: ['sales', 'lakehouse_quarantine', 'raw_bytes'],
    });
  });

  it('tells a table that exists already (a concurrent CREATE) from other errors', () => {
    for (const number of [2714, 1913, 2705]) expect(dialect.isDuplicateObject({ number })).toBe(true);
    expect(dialect.isDuplicateObject({ originalError: { info: { number: 2714 } } })).toBe(true);
    expect(dialect.isDuplicateObject({ number: 2627 })).toBe(false);
  });

  it('finds the run that holds a claim, and the loads that still stand, by the audit key', () => {
    const claim = dialect.claimant(merge, record);
    expect(flat(claim)).toBe('SELECT run_id FROM [sales].[lakehouse_load_audit] WHERE object_key = @p1');
    expect(claim.params).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    const standing = dialect.standingLoads(merge, 'gs://bucket/raw');
    expect(flat(standing)).toBe(
      "SELECT a.object_name, a.generation, a.md5 FROM [sales].[lakehouse_load_audit] a WHERE a.bucket = @p1 AND a.dataset = @p2 AND a.target_table = @p3 AND a.rows_in IS NOT NULL AND a.md5 <> N'' AND a.id = (SELECT max(b.id) FROM [sales].[lakehouse_load_audit] b WHERE b.bucket = a.bucket AND b.object_name = a.object_name AND b.rows_in IS NOT NULL) ORDER BY a.object_name",
    );
    expect(standing.params).toEqual(['gs://bucket/raw', 'prices', 'prices']);
    const moved = dialect.moveAuditRow(merge, '7', {
      bucket: 'file://b',
      objectName: 'o.csv',
      generation: '1',
    });
    expect(moved.sql).toBe(
      'UPDATE [sales].[lakehouse_load_audit] SET bucket = @p1, object_key = @p2 WHERE id = @p3',
    );
    expect(moved.params).toEqual(['file://b', expect.stringMatching(/^[0-9a-f]{64}$/), '7']);
  });

  it('numbers its parameters @p1… in order, as many as it passes', () => {
    const all: Statement[] = [
      dialect.lastLoad(merge, 'b', 'o'),
      dialect.insertAudit(merge, record),
      dialect.finishAudit(merge, record, {
        rowsIn: 1,
        rowsLoaded: 1,
        rowsQuarantined: 0,
        rowsReplaced: 0,
        blankLines: 0,
      }),
      dialect.deleteObjectRows(merge, 'o'),
      dialect.deleteObjectQuarantine(merge, 'b', 'o'),
      ...dialect.markInvalidRows(merge).map((c) => c.statement),
      ...dialect.markSupersededKeys(merge),
      ...dialect.applyRows(merge, 'o'),
      ...dialect.applyRows(append, 'o'),
      dialect.insertQuarantine(merge, record),
    ];
    for (const s of all) {
      const used = [...new Set([...s.sql.matchAll(/@p(\d+)/g)].map((m) => Number(m[1])))].sort(
        (a, b) => a - b,
      );
      expect(used).toEqual(s.params.map((_, i) => i + 1));
    }
  });

  it('refuses a decimal wider than SQL Server holds', () => {
    const wide = loadTables({
      ...prices,
      columns: [{ name: 'big', type: 'decimal(39,2)', nullable: true }],
      keys: [],
      load: { mode: 'append' },
    });
    expect(() => dialect.ensureTables(wide)).toThrow(
      'column big: expected decimal(p,s) with 1 ≤ p ≤ 38 and s ≤ min(p, 38) on this engine, found decimal(39,2)',
    );
  });
});

describe('sqlServerConfig', () => {
  const base: SqlServerTarget = { engine: 'sqlserver' };

  it('reads an ADO.NET connection string; discrete settings win; the description has no password', () => {
    const { config, description } = sqlServerConfig({
      ...base,
      connection:
        'Server=tcp:db.example.com,1444;Database=shop;User Id=loader;Password=Sup3r$ecret;Encrypt=true;TrustServerCertificate=false',
      database: 'warehouse',
    });
    expect(config).toMatchObject({
      server: 'db.example.com',
      port: 1444,
      database: 'warehouse',
      authentication: { type: 'default', options: { userName: 'loader', password: 'Sup3r$ecret' } },
      options: { encrypt: true, trustServerCertificate: false },
      pool: { max: 1 },
    });
    expect(description).toBe('SQL Server loader@db.example.com:1444/warehouse');
    expect(redact('login failed: Sup3r$ecret')).toBe('login failed: ***');
  });

  it('takes encrypt and trustServerCertificate from the config over the connection string', () => {
    const { config } = sqlServerConfig({
      ...base,
      connection: 'Server=localhost;User Id=sa;Password=x12345678;TrustServerCertificate=false',
      trustServerCertificate: true,
      encrypt: false,
    });
    expect(config.options).toMatchObject({ encrypt: false, trustServerCertificate: true });
    expect(config.port).toBe(1433);
  });

  it('builds each Azure AD flow', () => {
    expect(
      sqlServerConfig({ ...base, host: 'x.database.windows.net', authentication: 'azure-ad-default' }).config
        .authentication,
    ).toEqual({
      type: 'azure-active-directory-default',
      options: { clientId: undefined },
    });
    expect(
      sqlServerConfig({
        ...base,
        host: 'x.database.windows.net',
        authentication: 'azure-ad-password',
        user: 'loader@example.com',
        password: 'pw-123456',
        clientId: 'app-id',
      }).config.authentication,
    ).toEqual({
      type: 'azure-active-directory-password',
      options: {
        userName: 'loader@example.com',
        password: 'pw-123456',
        clientId: 'app-id',
        tenantId: 'common',
      },
    });
    const principal = sqlServerConfig({
      ...base,
      host: 'x.database.windows.net',
      database: 'db',
      authentication: 'azure-ad-service-principal',
      clientId: 'app-id',
      tenantId: 'tenant-id',
      password: 'client-secret-1',
    });
    expect(principal.config.authentication).toEqual({
      type: 'azure-active-directory-service-principal-secret',
      options: { clientId: 'app-id', tenantId: 'tenant-id', clientSecret: 'client-secret-1' },
    });
    expect(principal.description).toBe('SQL Server app-id@x.database.windows.net:1433/db');
    // From the connection string alone.
    expect(
      sqlServerConfig({
        ...base,
        connection: 'Server=x.database.windows.net;Authentication=Active Directory Default;Database=db',
      }).config.authentication,
    ).toMatchObject({ type: 'azure-active-directory-default' });
  });

  it('says what is missing, without showing secrets', () => {
    registerSecret('hidden-secret-9');
    expect(() => sqlServerConfig(base)).toThrow(
      'sql: expected a SQL Server host (sql.host, or Server=… in sql.connection), found none',
    );
    expect(() =>
      sqlServerConfig({
        ...base,
        host: 'h',
        authentication: 'azure-ad-service-principal',
        password: 'hidden-secret-9',
      }),
    ).toThrow(
      'sql: authentication azure-ad-service-principal needs clientId (the application id), found none',
    );
    expect(() =>
      sqlServerConfig({
        ...base,
        host: 'h',
        authentication: 'azure-ad-password',
        user: 'u',
        password: 'p-1234',
      }),
    ).toThrow(/needs clientId/);
  });
});
