/**
 * `npm run admin -- serve` (and `npm start`): the admin service, one process.
 *
 *   config ─► election, operator public keys, trusted issuers
 *     ├─ ElectionEventsFollower   election-events/0 from the election's log start: the state
 *     ├─ EventLog                 writes a checked event (acks=all), confirmed by the follower
 *     ├─ ReportsBook              the reports topic: violation reports and their triage (reports.ts)
 *     └─ AdminService             ADMIN_PORT: the API; ADMIN_OPS_PORT: /healthz /readyz /metrics
 *
 * Reads `public/operator-keys.json` and, only with DEV_LOGIN=1, the dev
 * login's key (to trust its staff tokens, as ingest does). No operator's
 * private key: operators sign on their own machines (the CLI).
 *
 * SIGTERM/SIGINT: stop accepting connections, let an event being written
 * finish, close Kafka, exit 0.
 */
import { type Config, ConfigError } from '../../common/config.js';
import { createLogger } from '../../common/log.js';
import { ElectionEventsFollower } from '../election-events.js';
import { createStaffTokenVerifier, staffRosterOf, trustedIssuersFor } from '../identity.js';
import { readDevLoginKey, readOperatorKeys } from '../keys.js';
import { loadElection } from '../load.js';
import { EventLog } from './event-log.js';
import { AdminMetrics } from './metrics.js';
import { ReportsBook } from './reports-book.js';
import { AdminService } from './service.js';

export async function serveAdmin(config: Config): Promise<void> {
  const logger = createLogger('admin', config.logLevel);
  const index = loadElection(config.election);
  const operatorKeys = await readOperatorKeys(config.stackDir, index.id);
  const devKey = config.devLogin ? await readDevLoginKey(config.stackDir, index.id) : null;
  const issuers = await trustedIssuersFor(config, devKey);
  if (issuers.length === 0) {
    throw new ConfigError(
      'IDENTITY_JWKS',
      'the admin service trusts no identity issuer: set IDENTITY_JWKS and IDENTITY_ISSUER (or DEV_LOGIN=1 for the demo)',
    );
  }
  const verifyStaff = createStaffTokenVerifier({
    issuers,
    audience: index.id,
    maxAgeSec: config.identity.maxStaffTokenAgeSec,
    ...staffRosterOf(index),
  });
  const metrics = new AdminMetrics();
  const follower = ElectionEventsFollower.fromConfig(config, {
    election: index,
    keys: operatorKeys,
    log: logger.child({ part: 'election-events' }),
    clientId: 'saylau-admin-events',
  });
  follower.on('skip', (reason) => metrics.skipped.inc({ reason }));
  follower.on('change', (state) => metrics.head.set(state.events.length));
  await follower.start();
  metrics.head.set(follower.state().events.length);
  const events = new EventLog({ brokers: config.kafka.brokers, follower, log: logger });
  const reports = new ReportsBook({
    brokers: config.kafka.brokers,
    stackDir: config.stackDir,
    election: index.id,
    log: logger.child({ part: 'reports' }),
  });
  await reports.start();
  const service = new AdminService({
    index,
    port: config.admin.port,
    opsPort: config.admin.opsPort,
    verifyStaff,
    operatorKeys,
    follower,
    events,
    reports,
    metrics,
    logger,
  });
  const port = await service.listen();
  logger.info(
    {
      port,
      opsPort: service.opsPort,
      election: index.id,
      operators: [...operatorKeys.keys()],
      applied: follower.state().events.length,
    },
    'admin listening',
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await service.close();
    await Promise.allSettled([follower.close(), reports.close(), events.close()]);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
