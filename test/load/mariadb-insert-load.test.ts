// The load suite against MariaDB through the other MySQL bulk path, batched multi-row INSERTs (what a server
// with local_infile=OFF, Cloud SQL's default, gets).
import { mariadbEngine } from '../helpers/sql-engines.ts';
import { defineLoadSuite } from './suite.ts';

defineLoadSuite(
  { ...mariadbEngine, name: 'MariaDB (batched INSERT)', options: { bulkPath: 'insert' } },
  'lh_load_suite_insert',
);
