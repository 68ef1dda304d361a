import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Suites that share a server (PostgreSQL, MariaDB) use their own schema or database, so files may run in parallel.
    pool: 'forks',
    // @actions/workflow-parser imports its JSON schemas without an import attribute, which Node refuses: Vite
    // transforms it instead (tsx does the same for the CLI).
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
