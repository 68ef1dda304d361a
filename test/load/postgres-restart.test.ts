// A private PostgreSQL cluster (not the shared server) is stopped and started in the middle of a load.
import { privatePostgresMissing, startPrivatePostgres } from '../helpers/private-servers.ts';
import { defineRestartTest } from './restart-suite.ts';

defineRestartTest('PostgreSQL', privatePostgresMissing, startPrivatePostgres, (port) => ({
  engine: 'postgres',
  connection: `postgres://postgres@127.0.0.1:${port}/postgres`,
}));
