import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start worker pools and child processes: two files at a time fits 2 cores.
    maxWorkers: 2,
    projects: [
      {
        // Pure layers against src/ (no dist/, no workers, no cache): `npm run test:unit`, seconds.
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
