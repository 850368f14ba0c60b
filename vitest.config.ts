import { defineConfig } from 'vitest/config';

// Every integration test runs against the one real local stack, so files run
// one at a time: parallel files would fight over brokers they stop and
// restart, and this box has two cores anyway.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: 'warn' },
  },
});
