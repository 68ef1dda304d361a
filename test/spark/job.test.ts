// The notebooks as a Spark job, without a JVM: how extraction cells map to Spark's JDBC source, how parameters are
// passed, and which mistakes stop the job before Java starts.
import { describe, expect, it } from 'vitest';
import { parseNotebook } from '../../src/notebooks/parser.ts';
import { extractionOptions, jdbcConnection } from '../../src/spark/jdbc.ts';
import { notebookJob } from '../../src/spark/job.ts';
import { redact } from '../../src/util/secrets.ts';
import { allNotebooks } from '../notebooks/helpers.ts';
import { readNotebook } from '../../src/notebooks/parser.ts';

const postgres = jdbcConnection({
  engine: 'postgres',
  connection: 'postgres://etl:P%40ss-w0rd-1@db.example:6543/lake?sslmode=require',
  schema: 'staging',
});

const notebook = (body: string) => parseNotebook(`-- Databricks notebook source\n${body}`, 'test.sql');

describe('the SQL store as a JDBC connection', () => {
  it('PostgreSQL: the URL carries host, port, database and TLS, never the login', () => {
    expect(postgres).toMatchObject({
      url: 'jdbc:postgresql://db.example:6543/lake?sslmode=require',
      driver: 'org.postgresql.Driver',
      user: 'etl',
      password: 'P@ss-w0rd-1',
      schema: 'staging',
    });
    expect(redact('failed with P@ss-w0rd-1')).toBe('failed with ***');
  });

  it('MariaDB: the jdbc:mysql: prefix (Spark’s MySQL dialect) with the MariaDB driver; the database is the schema', () => {
    const c = jdbcConnection({
      engine: 'mysql',
      host: '127.0.0.1',
      database: 'shop',
      user: 'u',
      password: 'pw-1234',
    });
    expect(c).toMatchObject({
      url: 'jdbc:mysql://127.0.0.1:3306/shop?permitMysqlScheme',
      driver: 'org.mariadb.jdbc.Driver',
      schema: 'shop',
    });
    expect(c.quote('a`b')).toBe('`a``b`');
  });

  it('SQL Server: a SQL login from the ADO.NET connection string; Entra ID is refused with the reason', () => {
    const c = jdbcConnection({
      engine: 'sqlserver',
      connection: 'Server=tcp:sql.example,1433;Database=lake;User Id=etl;Password=Pw-x1;Encrypt=true',
    });
    expect(c.url).toBe(
      'jdbc:sqlserver://;serverName={sql.example};portNumber=1433;databaseName={lake};encrypt=true;trustServerCertificate=false;applicationName=actions-lakehouse',
    );
    expect(c).toMatchObject({
      user: 'etl',
      schema: 'dbo',
      driver: 'com.microsoft.sqlserver.jdbc.SQLServerDriver',
    });
    expect(() =>
      jdbcConnection({ engine: 'sqlserver', host: 'h', authentication: 'azure-ad-default', clientId: 'c' }),
    ).toThrow(/SQL login .* azure-active-directory-default needs Entra ID libraries/);
  });

  it('PGlite cannot be reached over JDBC: the error says what to use instead', () => {
    expect(() => jdbcConnection({ engine: 'pglite', path: 'x' })).toThrow(
      /use a postgres, mysql or sqlserver store/,
    );
  });
});

describe('extraction OPTIONS on Spark', () => {
  it('the profile replaces the connection options (secret() calls included); dbo. is the store’s schema', () => {
    const options = extractionOptions(
      {
        host: "secret('lakehouse', 'sqlserver-host')",
        port: '1433',
        dbtable: 'dbo.transactions',
        password: "secret('lakehouse', 'sqlserver-password')",
        fetchsize: '5000',
      },
      postgres,
    );
    expect(options).toEqual({
      url: postgres.url,
      driver: 'org.postgresql.Driver',
      dbtable: '"staging"."transactions"',
      user: 'etl',
      password: 'P@ss-w0rd-1',
      fetchsize: '5000',
    });
    expect(extractionOptions({ dbtable: 'audit.loads' }, postgres).dbtable).toBe('"audit"."loads"');
  });

  it('an option it does not map is an error that names it, not a silent skip', () => {
    expect(() => extractionOptions({ dbtable: 't', sessioninitstatement: 'DROP TABLE x' }, postgres)).toThrow(
      /OPTIONS sessioninitstatement: not mapped to Spark's JDBC source/,
    );
    expect(() => extractionOptions({ query: 'SELECT 1' }, postgres)).toThrow(/name a table with dbtable/);
  });
});

describe('the notebooks as one job', () => {
  it('the project’s four notebooks: named parameters as args, the password only in the JDBC options', async () => {
    const notebooks = await Promise.all(allNotebooks.map(readNotebook));
    const params = {
      dataset: 'transactions',
      full_refresh: false,
      min_support: 0.001,
      metric: 'lift',
      min_threshold: 0.8,
      confidence_above: 0.1,
      max_len: 0,
    };
    const job = notebookJob(notebooks, params, () => postgres);
    expect(job.schemas.sort()).toEqual(['gold', 'silver']);
    const views = job.statements.filter((s) => 'jdbc' in s);
    expect(views.map((v) => 'view' in v && v.view)).toEqual(['transactions_raw', 'load_audit']);
    const sqlText = JSON.stringify(job.statements.filter((s) => 'sql' in s));
    expect(sqlText).not.toContain('P@ss-w0rd-1');
    const rules = job.statements.find(
      (s) => 'sql' in s && s.sql.startsWith('CREATE OR REPLACE TABLE gold.association_rules'),
    );
    expect(rules).toMatchObject({ args: { metric: 'lift', min_threshold: 0.8, confidence_above: 0.1 } });
    expect('sql' in rules! && rules.sql).toContain(':metric'); // bound by Spark, never spliced
    // Each table write is followed by the two statements that read its version and row count.
    const i = job.statements.indexOf(rules!);
    expect(job.statements.slice(i + 1, i + 3).map((s) => 'sql' in s && s.sql)).toEqual([
      'DESCRIBE HISTORY `gold`.`association_rules` LIMIT 1',
      'SELECT count(*) FROM `gold`.`association_rules`',
    ]);
  });

  it('mistakes stop the job before Java starts, with the notebook, cell and line', () => {
    const build =
      (body: string, params = {}) =>
      () =>
        notebookJob([notebook(body)], params, () => postgres);
    expect(build('SELECT :missing')).toThrow(/test\.sql, cell 1 \(line 2\): parameter :missing has no value/);
    expect(build('CREATE OR REPLACE TEMP VIEW v AS SELECT :x', { x: 1 })).toThrow(
      /view v uses parameter markers/,
    );
    expect(build('-- COMMAND ----------\nDROP TABLE silver.x')).toThrow(
      /cell 2 \(line 3\): 'DROP TABLE silver\.x' is not one of the statement forms/,
    );
    expect(
      build("CREATE OR REPLACE TEMPORARY VIEW v USING jdbc OPTIONS (dbtable 't', prepareQuery 'x')"),
    ).toThrow(/cell 1 .*OPTIONS preparequery: not mapped/);
  });
});
