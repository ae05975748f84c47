import { defineConfig } from 'vitest/config';

/**
 * `npm run test:soak`: the long cells of the fault matrix (test/soak), on a local stack of
 * their own booted by the integration global setup. Not part of `npm test`.
 */
export default defineConfig({
  test: {
    name: 'soak',
    include: ['test/soak/**/*.test.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    globalSetup: ['test/integration/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
