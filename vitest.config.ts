import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code, next to its source, no services) and `integration` (tests/, against the
// real PostgreSQL, Redis, RabbitMQ and Kafka broker that tests/global-setup.ts brings up when missing).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{schemas,domain,ingest,processors,gateway,commands,simulator,load-tests,platform,cli,console}/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
