// The fault suite on the PostgreSQL server (127.0.0.1:5432), a schema per run.
import { postgresEngine, POSTGRES_URL } from '../helpers/sql-engines.ts';
import { defineKillSuite } from './kill-suite.ts';

defineKillSuite(
  {
    name: 'PostgreSQL',
    available: postgresEngine.available,
    sql: (schema) => `{ engine: postgres, connection: '${POSTGRES_URL}', schema: ${schema} }`,
    reset: postgresEngine.reset,
    concurrent: true,
  },
  'lh_fault',
);
