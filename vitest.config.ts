import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Skips are failures (see the reporter); `.only` left in a file must not narrow a CI run.
    allowOnly: false,
    reporters: ['default', './stack/src/testing/no-skips-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['*/src/**/*.test.ts'],
          exclude: ['**/node_modules/**', '*/src/**/*.integration.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['*/src/**/*.integration.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['./stack/src/testing/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Services are shared; files run one at a time so their load does not skew one another on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
