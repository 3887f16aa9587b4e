import { defineConfig } from 'vitest/config';

/**
 * Tests that start processes or real servers, or need PostgreSQL, Redis or Docker: `npm run test:integration`.
 * Everything else is `npm run test:unit`, the everyday loop. `npm test` (and CI) runs both.
 */
const INTEGRATION = [
  'test/integration/**/*.test.ts',
  'test/containers/**/*.test.ts',
  'test/public-data/**/*.test.ts',
  'test/feedback/**/*.test.ts',
  'test/auth/secure-defaults.test.ts',
  'test/observability/logger.test.ts',
  'test/tools/sandbox/hook-cli.test.ts',
  'test/tools/require-node.test.ts',
  'test/readme-examples.test.ts',
  'test/tools/report/**/*.test.ts',
];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // A committed `.only` would silently skip the rest of the suite: CI refuses it (and .ci/run greps for it).
    allowOnly: !process.env['CI'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: INTEGRATION } },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
    ],
    coverage: {
      provider: 'v8',
      // The shipped service only: the developer tools (src/tools) are not in the image.
      include: ['src/**/*.ts'],
      exclude: ['src/tools/**'],
      // Just under what the suite reached on 2026-12-02 (lines 94.2%, statements 93.9%, functions 94.9%,
      // branches 86.0%), with room for the changes landing the same day; a change that drops tested code fails CI.
      // With the card report moved to src/tools and a test per call step: lines 94.6%, statements 94.3%,
      // functions 95.0%, branches 87.5%.
      thresholds: { lines: 91, statements: 91, functions: 92, branches: 83 },
    },
  },
});
