// The export suite against SQL Server. It runs where SQLSERVER_CONNECTION_STRING is set (the GitHub CI job
// "sqlserver", with the official SQL Server service container) and is skipped, with the reason printed,
// everywhere else: no SQL Server runs on the development machines. test/sql/export-sql.test.ts checks the SQL
// it sends everywhere.
import { sqlserverEngine } from '../helpers/sql-engines.ts';
import { defineExportSuite } from './export-suite.ts';

defineExportSuite(sqlserverEngine, 'lh_export_suite');
