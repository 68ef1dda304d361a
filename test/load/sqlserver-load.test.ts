// The load suite against SQL Server. It runs where SQLSERVER_CONNECTION_STRING is set (the GitHub CI job
// "sqlserver", with the official SQL Server service container) and is skipped, with the reason printed,
// everywhere else: no SQL Server runs on the development machines.
import { sqlserverEngine } from '../helpers/sql-engines.ts';
import { defineLoadSuite } from './suite.ts';

defineLoadSuite(sqlserverEngine, 'lh_load_suite');
