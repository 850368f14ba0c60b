/**
 * Brings the real local stack up (installing what is missing) before any
 * test runs, and creates the topics. It never takes the stack down: a
 * developer's running stack stays as it was, and CI's machine is thrown away.
 */
import { loadConfig } from '../../common/config.js';
import { loadElection } from '../../election/index.js';
import { Stack } from '../../infra/stack/stack.js';
import { awaitCluster, ensureTopics } from '../../infra/topics.js';

export default async function setup(): Promise<void> {
  const config = loadConfig();
  const stack = new Stack(config);
  await stack.up((line) => process.stderr.write(`[stack] ${line}\n`));
  await awaitCluster(config);
  await ensureTopics(config, loadElection(config.election).partitionCount);
}
