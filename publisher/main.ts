/**
 * `npm run publisher`: the results publisher and site, one process.
 *
 *   config ─► election + snapshot key ─► public dir (site assets, manifest, keys.json)
 *     ├─ ElectionEventsFollower  election-events: a `declared` event → a final snapshot at once
 *     ├─ ObserverFeed       every 2 s and on each commission action: /v1/observe/feed (staff tokens only)
 *     ├─ SnapshotScheduler  every SNAPSHOT_INTERVAL: settle → reconcile → sign → store (final: + protocols)
 *     ├─ LiveFeed           every few seconds: live.json (turnout, no choices)
 *     └─ StaticServer       PUBLISHER_PORT: the public dir; PUBLISHER_OPS_PORT: /healthz /readyz /metrics
 *
 * SIGTERM/SIGINT: stop accepting connections, let a snapshot being written
 * finish, stop the feed, close ClickHouse and Redis, exit 0.
 */
import { Redis } from 'ioredis';
import { ClickHouse } from '../aggregator/client.js';
import { reportCounts } from '../aggregator/queries.js';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import {
  buildManifest,
  ElectionEventsFollower,
  loadElection,
  manifestPath,
  readOperatorKeys,
  readPublisherKeys,
  writeManifest,
} from '../election/index.js';
import { ClickHouseSource } from './clickhouse-source.js';
import { commissionView } from './commission-view.js';
import { districtKeyFingerprints } from './district-keys.js';
import { FinalFiles } from './final-files.js';
import { signKeyStatement } from './key-statement.js';
import { LiveFeed } from './live-feed.js';
import { PublisherMetrics } from './metrics.js';
import { ObserverFeed } from './observer-feed.js';
import { watcherVerifierFor } from './observer-tokens.js';
import { rollSourceFor } from './roll-source.js';
import { runOnDeclaration, SnapshotScheduler } from './scheduler.js';
import { installSite } from './site-assets.js';
import { SnapshotStore } from './snapshot-store.js';
import { StaticServer } from './static-server.js';

/** How often live.json is refreshed. */
const LIVE_INTERVAL_MS = 5_000;

const config = loadConfig();
const logger = createLogger('publisher', config.logLevel);
const index = loadElection(config.election);
// The snapshot key and public keys only: the results host holds no key that signs a credential.
const keys = await readPublisherKeys(config.stackDir, index.id);
const publicDir = config.publisher.publicDir;
const intervalSec = config.publisher.snapshotIntervalSec || index.config.snapshotIntervalSec;

await installSite(publicDir);
const manifest = buildManifest(index, keys);
await writeManifest(manifestPath(publicDir, index.id), manifest);
// District keys come from the public manifest, never from private key files (DESIGN §3).
const districtKeys = districtKeyFingerprints(manifest);
const store = new SnapshotStore(publicDir);
const head = await store.open();
await store.publishKeyStatement(signKeyStatement(index.id, districtKeys, keys.snapshot.privateKey));

let redis: Redis | null = null;
const redisClient = (): Redis => {
  redis ??= new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: false });
  return redis;
};
const roll = rollSourceFor(index, redisClient);
const source = new ClickHouseSource(config, logger, index);
const metrics = new PublisherMetrics();
metrics.lastSeq.set(head.seq);
// The commission's signed events: a `declared` one makes the next snapshot final (scheduler.ts).
const finals = new FinalFiles(store, keys.snapshot.privateKey);
await finals.open();
const electionEvents = ElectionEventsFollower.fromConfig(config, {
  election: index,
  keys: await readOperatorKeys(config.stackDir, index.id),
  log: logger,
  clientId: 'saylau-publisher-events',
});
await electionEvents.start();
const live = new LiveFeed({
  index,
  source,
  roll,
  store,
  metrics,
  logger,
  intervalMs: LIVE_INTERVAL_MS,
  // The scheduler's own timer says when it next tries: no second clock to drift from it.
  nextSnapshotAt: () => scheduler.nextAttemptAt,
});
const scheduler = new SnapshotScheduler({
  index,
  source,
  roll,
  store,
  privateKey: keys.snapshot.privateKey,
  districtKeys,
  stations: keys.stations,
  metrics,
  logger,
  intervalMs: intervalSec * 1000,
  final: { events: () => electionEvents.state(), files: finals },
});
runOnDeclaration(electionEvents, scheduler);
// Report counts by category and status for the feed (the reports' texts are never read here).
const reportsCh = new ClickHouse(config, { requestTimeoutMs: 10_000 });
const observers = new ObserverFeed({
  index,
  source,
  roll,
  redis: redisClient,
  head: () => store.head,
  commission: (now) => commissionView(electionEvents.state(), now),
  reports: () => reportCounts(reportsCh, index.id),
  verify: await watcherVerifierFor(config, index),
  metrics,
  logger,
});
electionEvents.on('change', () => observers.push());
// Ready from the moment it listens (site assets and chain head are in place by then) until shutdown begins.
let stopping = false;
const server = new StaticServer({
  root: publicDir,
  port: config.publisher.port,
  opsPort: config.publisher.opsPort,
  metrics,
  logger,
  ready: () => true,
  mount: (app, uws) => observers.mount(app, uws),
});
const port = await server.listen();
live.start();
observers.start();
scheduler.start();
logger.info(
  { port, opsPort: server.opsPort, publicDir, election: index.id, intervalSec, head: head.seq },
  'publisher listening',
);

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  server.close();
  await Promise.allSettled([scheduler.stop(), live.stop(), observers.stop()]);
  await Promise.allSettled([source.close(), redis?.quit(), electionEvents.close(), reportsCh.close()]);
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
