import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Suites that share a server (PostgreSQL, MariaDB) use their own schema or database, so files may run in parallel.
    pool: 'forks',
  },
});
