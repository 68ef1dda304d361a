// The export suite against the MariaDB server (127.0.0.1:3306), in a database of its own.
import { mariadbEngine } from '../helpers/sql-engines.ts';
import { defineExportSuite } from './export-suite.ts';

defineExportSuite(mariadbEngine, 'lh_export_suite');
