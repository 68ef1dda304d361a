// A private MariaDB server (not the shared one) is killed and started in the middle of a load.
import { privateMariadbMissing, startPrivateMariadb } from '../helpers/private-servers.ts';
import { defineRestartTest } from './restart-suite.ts';

defineRestartTest('MariaDB', privateMariadbMissing, startPrivateMariadb, (port) => ({
  engine: 'mysql',
  host: '127.0.0.1',
  port,
  user: 'root',
  schema: 'restart_test',
}));
