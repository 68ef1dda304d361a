// Must-show: `lakehouse transform --on spark` and `--on local` on the same PostgreSQL store, table by table; the
// extraction reads through Spark's JDBC source as a login whose password comes from the environment.
import { needsPostgres, needsSpark } from '../helpers/services.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { POSTGRES_URL, withSession } from '../helpers/sql-engines.ts';
import { defineEngineComparison, type StoreUnderTest } from './engines-suite.ts';

const dropRole = async (s: SqlSession, user: string) => {
  const roles = await s.query<{ n: string }>(`SELECT count(*) AS n FROM pg_roles WHERE rolname = '${user}'`);
  if (Number(roles[0]!.n) === 0) return;
  // The role's privilege on the database goes first: a role that holds anything cannot be dropped.
  await s.execute(`DROP OWNED BY ${user} CASCADE`);
  await s.execute(`DROP ROLE ${user}`);
};

const postgres: StoreUnderTest = {
  name: 'PostgreSQL',
  // The test server trusts local logins, so the password is carried and kept secret but not checked.
  checksPassword: false,
  createLogin: (schema, user, password) =>
    withSession({ engine: 'postgres', connection: POSTGRES_URL }, async (s) => {
      await s.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await dropRole(s, user);
      await s.execute(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
      // The load stage creates its schema if need be (CREATE SCHEMA IF NOT EXISTS needs CREATE on the database).
      await s.execute(`GRANT CREATE ON DATABASE test TO ${user}`);
      await s.execute(`CREATE SCHEMA ${schema} AUTHORIZATION ${user}`);
    }),
  dropLogin: (schema, user) =>
    withSession({ engine: 'postgres', connection: POSTGRES_URL }, async (s) => {
      await s.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await dropRole(s, user);
    }),
  profileSql: (schema, user, variable) =>
    `{ engine: postgres, host: 127.0.0.1, port: 5432, database: test, user: ${user}, password: '\${env:${variable}}', schema: ${schema} }`,
};

defineEngineComparison(postgres, 'lh_spark_pg', (await needsPostgres()) && (await needsSpark()));
