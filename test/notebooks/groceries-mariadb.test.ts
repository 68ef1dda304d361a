// The notebooks on the real grocery dataset, loaded by the load stage into the MariaDB server (standing in
// for MySQL) and extracted from there, in a database of its own.
import { mariadbEngine } from '../helpers/sql-engines.ts';
import { defineGroceriesSuite, groceriesAvailable } from './groceries-suite.ts';

defineGroceriesSuite(mariadbEngine, 'lh_groceries', await groceriesAvailable(mariadbEngine));
