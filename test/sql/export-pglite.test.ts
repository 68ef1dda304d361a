// The export suite against PGlite, the embedded default store, in a folder of its own.
import { pgliteEngine } from '../helpers/sql-engines.ts';
import { defineExportSuite } from './export-suite.ts';

defineExportSuite(pgliteEngine(), 'lh_export_suite');
