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
    // The ballot mix holds a district's ballots for up to INGEST_MIX_MAX_WAIT_MS: suites that cast
    // one ballot at a time would wait that long per ballot. Suites that test the mix set their own.
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: 'warn', INGEST_MIX_MAX_WAIT_MS: '20' },
  },
});
