// The load suite against the MariaDB server (127.0.0.1:3306, standing in for MySQL), in a database of its own.
import { mariadbEngine } from '../helpers/sql-engines.ts';
import { defineLoadSuite } from './suite.ts';

defineLoadSuite(mariadbEngine, 'lh_load_suite');
