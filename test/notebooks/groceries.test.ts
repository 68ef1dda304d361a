// The notebooks on the real grocery dataset, loaded by the load stage into PGlite (the embedded default).
import { pgliteEngine } from '../helpers/sql-engines.ts';
import { defineGroceriesSuite, groceriesAvailable } from './groceries-suite.ts';

const engine = pgliteEngine();
defineGroceriesSuite(engine, 'lh_groceries', await groceriesAvailable(engine));
