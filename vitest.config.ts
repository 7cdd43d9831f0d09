import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each test file gets its own process; two at a time suits the two-core machine and keeps the
    // embedded PostgreSQL and the in-memory PGlite instances from competing for memory.
    pool: 'forks',
    maxWorkers: 2,
  },
});
