import { defineConfig } from 'vitest/config';

/**
 * npm run test:docker: pidone's image under a real Docker engine, through the docker
 * CLI (DOCKER_HOST as set). The global setup builds the images first; each file runs
 * its own containers, so two files run at a time as in the main suite.
 */
export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    globalSetup: ['test/docker/global-setup.ts'],
    testTimeout: 120_000,
    // Building pidone:test from scratch takes minutes on a loaded machine.
    hookTimeout: 1_200_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
