/**
 * Brings the real local stack up (installing what is missing) before any
 * test runs, creates the topics and applies the ClickHouse migrations, as
 * `npm start` does, and builds the web client into `ingest/client/dist/`
 * when it is missing or stale (ingest only reads it). It never takes the stack down: a developer's running
 * stack stays as it was, and CI's machine is thrown away.
 */
import { migrate } from '../../aggregator/migrate.js';
import { loadConfig } from '../../common/config.js';
import { createLogger } from '../../common/log.js';
import { loadElection } from '../../election/index.js';
import { Stack } from '../../infra/stack/stack.js';
import { awaitCluster, ensureTopics } from '../../infra/topics.js';
import { buildIfStale } from '../../ingest/client/build.js';

export default async function setup(): Promise<void> {
  const config = loadConfig();
  if ((await buildIfStale()) !== null)
    process.stderr.write('[setup] web client built into ingest/client/dist/\n');
  const stack = new Stack(config);
  await stack.up((line) => process.stderr.write(`[stack] ${line}\n`));
  await awaitCluster(config);
  await ensureTopics(config, loadElection(config.election).partitionCount);
  const result = await migrate(config, createLogger('test-setup', config.logLevel));
  for (const warning of result.warnings) process.stderr.write(`[migrate] ${warning}\n`);
}
