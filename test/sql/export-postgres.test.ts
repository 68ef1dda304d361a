// The export suite against the PostgreSQL server (127.0.0.1:5432), in a schema of its own.
import { postgresEngine } from '../helpers/sql-engines.ts';
import { defineExportSuite } from './export-suite.ts';

defineExportSuite(postgresEngine, 'lh_export_suite');
