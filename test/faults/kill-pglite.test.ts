// The fault suite on the embedded store: PGlite in the project's folder, reopened after every kill.
import { defineKillSuite } from './kill-suite.ts';

defineKillSuite(
  {
    name: 'PGlite',
    available: async () => true,
    // Each project has its own folder, so its PGlite store is new.
    sql: () => '{ engine: pglite, path: .lakehouse/pglite }',
    reset: async () => undefined,
    concurrent: false,
  },
  'lh_fault',
);
