import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The storms and the soak run on their own: npm run test:stress; the Docker suite
    // needs an engine: npm run test:docker.
    exclude: ['test/stress/**', 'test/docker/**', '**/node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Real-kernel tests fork thousands of processes; two cores run two files at a time.
    maxWorkers: 2,
  },
});
