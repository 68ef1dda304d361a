// The load suite against the embedded PGlite store.
import fsp from 'node:fs/promises';
import { afterAll } from 'vitest';
import { pgliteEngine } from '../helpers/sql-engines.ts';
import { defineLoadSuite } from './suite.ts';

const engine = pgliteEngine();
afterAll(() => fsp.rm(engine.dir, { recursive: true, force: true }));
defineLoadSuite(engine, 'load_suite');
