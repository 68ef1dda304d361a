// The load suite against the PostgreSQL server (127.0.0.1:5432), in a schema of its own.
import { postgresEngine } from '../helpers/sql-engines.ts';
import { defineLoadSuite } from './suite.ts';

defineLoadSuite(postgresEngine, 'lh_load_suite');
