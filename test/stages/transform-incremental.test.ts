// Must-show (issue 15): the incremental transform on DuckDB, with the embedded PGlite store, equals a full refresh
// after a new month, a late line and a replaced object (./incremental-suite.ts).
import { runLocalTransform } from '../../src/pipeline/transform-local.ts';
import { defineIncrementalSuite } from './incremental-suite.ts';

defineIncrementalSuite({ name: 'DuckDB', transform: runLocalTransform }, true);
