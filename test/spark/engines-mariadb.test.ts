// Both engines on the same MariaDB store, table by table; the extraction reads through Spark's JDBC source (the
// MariaDB driver under Spark's MySQL dialect) as a user whose password comes from the environment and is checked.
import { needsMariaDB, needsSpark } from '../helpers/services.ts';
import { MARIADB, withSession } from '../helpers/sql-engines.ts';
import { defineEngineComparison, type StoreUnderTest } from './engines-suite.ts';

const root = { engine: 'mysql' as const, ...MARIADB };

const mariadb: StoreUnderTest = {
  name: 'MariaDB',
  checksPassword: true,
  createLogin: (database, user, password) =>
    withSession(root, async (s) => {
      await s.execute(`DROP DATABASE IF EXISTS ${database}`);
      await s.execute(`DROP USER IF EXISTS '${user}'@'%', '${user}'@'localhost'`);
      await s.execute(`CREATE DATABASE ${database}`);
      for (const host of ['%', 'localhost']) {
        await s.execute(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
        await s.execute(`GRANT ALL ON ${database}.* TO '${user}'@'${host}'`);
      }
    }),
  dropLogin: (database, user) =>
    withSession(root, async (s) => {
      await s.execute(`DROP DATABASE IF EXISTS ${database}`);
      await s.execute(`DROP USER IF EXISTS '${user}'@'%', '${user}'@'localhost'`);
    }),
  profileSql: (database, user, variable) =>
    `{ engine: mysql, host: 127.0.0.1, port: 3306, database: ${database}, user: ${user}, password: '\${env:${variable}}' }`,
};

defineEngineComparison(mariadb, 'lh_spark_my', (await needsMariaDB()) && (await needsSpark()));
