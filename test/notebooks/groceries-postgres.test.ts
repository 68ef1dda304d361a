// The notebooks on the real grocery dataset, loaded by the load stage into the PostgreSQL server and
// extracted from there, in a schema of its own.
import { postgresEngine } from '../helpers/sql-engines.ts';
import { defineGroceriesSuite, groceriesAvailable } from './groceries-suite.ts';

defineGroceriesSuite(postgresEngine, 'lh_groceries', await groceriesAvailable(postgresEngine));
