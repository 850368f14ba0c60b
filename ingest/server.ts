/**
 * One ingest process: loads the election and its keys, connects Redis and
 * Kafka, starts the crypto pool, mounts the routes on one uWS app and
 * listens (SO_REUSEPORT: sibling processes share the port); `/healthz`,
 * `/readyz` and `/metrics` on a second app on the operations port
 * (INGEST_OPS_PORT, shared the same way), never on the voting port. `main.ts` runs
 * several of these; this file also runs alone (`node --import tsx ingest/server.ts`).
 *
 * SIGTERM: not ready → listeners closed → in-flight requests finish → the
 * record log is flushed → sessions closed → exit 0. No acknowledged ballot is lost:
 * a ballot is acknowledged only after Kafka acknowledged it.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { type Config, loadConfig } from '../common/config.js';
import { createLogger, type Logger, loggableError } from '../common/log.js';
import { type ListenSocket, loadUws } from '../common/uws.js';
import {
  ElectionEventsFollower,
  type ElectionIndex,
  type IngestKeys,
  loadElection,
  readIngestKeys,
  readOperatorKeys,
} from '../election/index.js';
import { Admission } from './admission.js';
import { compileDistricts } from './ballot-rules.js';
import { serveClient } from './client/serve.js';
import { type IngestContext, Lifecycle } from './context.js';
import { modulusOf } from './crypto/blind-rsa.js';
import { CryptoPool } from './crypto/pool.js';
import { ElectionLive } from './election-live.js';
import { ERROR_BODIES } from './errors.js';
import { HealthBeacon } from './health-beacon.js';
import { BodyDeadlines } from './http/body.js';
import { Router } from './http/router.js';
import { IndexStore } from './ledger/index-store.js';
import { Ledger } from './ledger/ledger.js';
import { LedgerHost, type LedgerSink } from './ledger/ledger-host.js';
import type { MixInfo } from './ledger/mix.js';
import type { SendInfo } from './ledger/record-log.js';
import { RelayClient } from './ledger/relay-client.js';
import { HostSecret, requestHostSecret } from './limits/host-secret.js';
import { RateLimiter } from './limits/rate-limiter.js';
import { SignatureCache } from './limits/signature-cache.js';
import { IngestMetrics } from './metrics.js';
import { CountedCodes } from './receipts/counted-codes.js';
import { ballotsRoute } from './routes/ballots.js';
import { credentialsRoute } from './routes/credentials.js';
import { devRoutes } from './routes/dev.js';
import { electionStatusRoute } from './routes/election-status.js';
import { electionRoutes } from './routes/elections.js';
import { healthRoutes } from './routes/health.js';
import { paperCheckInsRoute } from './routes/paper-check-ins.js';
import { paperProtocolRoutes } from './routes/paper-protocols.js';
import { receiptsRoute } from './routes/receipts.js';
import { reportsRoute } from './routes/reports.js';
import { SessionChannel } from './routes/session.js';
import { staffTokenVerifierFor, tokenVerifierFor } from './token-verifier.js';

/** How often the counted-codes file is re-read. */
const CODES_REFRESH_MS = 10_000;

export interface RunningServer {
  readonly ports: readonly number[];
  shutdown(reason: string): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const uws = loadUws(); // first: fail before connecting anything if the native binary is missing
  const election = loadElection(config.election);
  // Ingest's own keys only: never the snapshot signing key (the results host's).
  const keys = await readIngestKeys(config.stackDir, election.id, { devLogin: config.devLogin });
  const verifyToken = await tokenVerifierFor(config, election.id, keys.identity);
  const verifyStaffToken = await staffTokenVerifierFor(config, election, keys.identity);
  const metrics = new IngestMetrics();
  const admission = new Admission(config.ingest.maxInFlight);
  const lifecycle = new Lifecycle();

  const redis = new Redis({
    host: config.redis.host,
    port: config.redis.port,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    lazyConnect: true,
  });
  redis.on('error', (err) => log.warn({ err: loggableError(err), code: 'SAYLAU_ERR_REDIS' }, 'redis error'));
  await redis.connect();
  const timer = (op: string, started: number): void => metrics.redis(op, started);
  const index = new IndexStore(redis, {
    election: election.id,
    pendingTtlMs: config.ingest.pendingTtlMs,
    busyMs: config.ingest.produceTimeoutMs,
    timer,
  });
  const sink = await openLedgerSink(config, election, keys, metrics, log);
  const ledger = new Ledger(index, sink, { timeoutMs: config.ingest.produceTimeoutMs, log, metrics });

  // From the supervisor (one per host: limits and cached signatures are host-wide); alone, our own.
  const secret = new HostSecret(forkedWorker() ? await requestHostSecret(process) : undefined);
  const districtKeys = [...keys.districts].map(([id, key]) => [id, key.privateKeyPem] as const);
  const crypto = new CryptoPool({
    threads: config.ingest.cryptoThreads,
    maxQueue: config.ingest.cryptoMaxQueue,
    onFull: () => metrics.cryptoQueueFull.inc(),
    onSign: () => metrics.blindSigns.inc(),
    districts: districtKeys,
  });
  const moduli = new Map([...keys.districts].map(([id, key]) => [id, modulusOf(key.publicKey)]));
  const counted = new CountedCodes(config.publisher.publicDir, CODES_REFRESH_MS, log);
  await counted.start();
  // One follower per worker (DESIGN §6): each applies the commission's events itself, within ~1 s.
  const events = ElectionEventsFollower.fromConfig(config, {
    election,
    keys: await readOperatorKeys(config.stackDir, election.id),
    log,
    clientId: 'saylau-ingest-events',
  });
  const live = new ElectionLive(election, log, metrics);
  live.follow(events);

  const ctx: IngestContext = {
    config,
    log,
    election,
    keys,
    districts: compileDistricts(election),
    moduli,
    verifyToken,
    verifyStaffToken,
    index,
    sink,
    ledger,
    crypto,
    limiter: new RateLimiter(redis, secret, election.id),
    signatures: new SignatureCache(redis, secret, election.id),
    admission,
    metrics,
    counted,
    lifecycle,
    live,
  };

  const app = uws.App();
  const routerDeps = {
    admission,
    metrics,
    log,
    draining: () => lifecycle.draining,
    bodyDeadlines: new BodyDeadlines(config.ingest.bodyTimeoutMs),
  };
  const router = new Router(app, routerDeps);
  for (const spec of electionRoutes(ctx)) router.add(spec);
  router.add(electionStatusRoute(ctx));
  router.add(credentialsRoute(ctx)).add(ballotsRoute(ctx)).add(receiptsRoute(ctx));
  router.add(paperCheckInsRoute(ctx));
  for (const spec of paperProtocolRoutes(ctx)) router.add(spec);
  router.add(reportsRoute(ctx));
  if (config.devLogin) for (const spec of devRoutes(ctx)) router.add(spec);
  const sessions = new SessionChannel(app, uws, ctx);
  sessions.mount();
  await serveClient(app, config, log, election.config.snapshotIntervalSec);
  const ops = uws.App();
  const opsRouter = new Router(ops, routerDeps);
  for (const spec of healthRoutes(ctx)) opsRouter.add(spec);
  for (const each of [app, ops]) {
    each.any('/*', (res) => {
      res
        .writeStatus('404 Not Found')
        .writeHeader('content-type', 'application/json')
        .end(ERROR_BODIES.not_found);
    });
  }

  const ports = [config.ingest.port, ...config.ingest.extraPorts];
  const listening: ListenSocket[] = [];
  for (const [server, port] of [
    ...ports.map((p) => [app, p] as const),
    [ops, config.ingest.opsPort] as const,
  ]) {
    const socket = await new Promise<ListenSocket | false>((resolve) => server.listen(port, resolve));
    if (socket === false) throw new Error(`ingest cannot listen on port ${port}`);
    listening.push(socket);
  }
  sessions.start();
  const beacon = new HealthBeacon({
    redis,
    metrics,
    admission,
    sink,
    log,
    phase: (now) => live.phase(now) ?? 'catching-up',
  });
  beacon.start();
  lifecycle.keysLoaded = true;
  log.info(
    { ports, opsPort: config.ingest.opsPort, election: election.id, districts: keys.districts.size },
    'ingest ready',
  );

  let stopping: Promise<void> | null = null;
  async function shutdown(reason: string): Promise<void> {
    lifecycle.draining = true;
    sink.releaseMix(); // the requests drained below must not wait out the mix's T
    log.info({ reason, inFlight: admission.inFlight }, 'ingest draining');
    for (const socket of listening) uws.us_listen_socket_close(socket);
    sessions.tick(); // tell sessions the channel is closing
    const deadline = Date.now() + config.ingest.produceTimeoutMs + 2_000;
    while (admission.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sink.close();
    sessions.stop();
    counted.stop();
    await events.close();
    for (const each of [app, ops]) (each as typeof each & { close(): void }).close(); // closes sessions and keep-alive sockets; missing from the d.ts
    routerDeps.bodyDeadlines.stop();
    await crypto.destroy();
    await beacon.stop();
    await redis.quit().catch(() => redis.disconnect());
    log.info({ inFlight: admission.inFlight }, 'ingest stopped');
  }

  return {
    ports,
    shutdown: (reason) => {
      stopping ??= shutdown(reason);
      return stopping;
    },
  };
}

/**
 * Forked by the supervisor (`main.ts`): relay writes to its ledger host (one
 * producer and one follower per host). Run alone: host the ledger here.
 */
/** Forked by the supervisor (`main.ts`), which hosts the ledger and the host secret. */
const forkedWorker = (): boolean => process.env.INGEST_WORKER !== undefined && process.send !== undefined;

async function openLedgerSink(
  config: Config,
  election: ElectionIndex,
  keys: IngestKeys,
  metrics: IngestMetrics,
  log: Logger,
): Promise<LedgerSink> {
  const onSend = (info: SendInfo): void => metrics.observeSend(info);
  const onMix = (info: MixInfo): void => metrics.observeMix(info);
  if (forkedWorker()) {
    return new RelayClient(process, { log, onSend, onMix });
  }
  const host = new LedgerHost({ config, election, keys, log, onSend, onMix });
  await host.start();
  return host;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('ingest', config.logLevel);
  // Handlers first: a SIGTERM during start-up (e.g. a supervisor stopping a
  // worker it just restarted) must still end in a clean drain and exit 0.
  let server: RunningServer | null = null;
  let signalled: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals): void => {
    signalled = signal;
    if (server === null) return; // start-up finishes first, then drains
    server.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: loggableError(err), code: 'SAYLAU_ERR_SHUTDOWN' }, 'ingest shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A worker forked by the supervisor drains when the supervisor is gone
  // (its IPC channel closes), so a killed supervisor leaves no orphans.
  process.once('disconnect', () => stop('SIGTERM'));
  try {
    server = await startServer(config, log);
  } catch (err) {
    log.fatal({ err: loggableError(err), code: 'SAYLAU_ERR_START' }, 'ingest failed to start');
    process.exit(1);
  }
  process.send?.({ type: 'ready', ports: server.ports });
  if (signalled !== null) stop(signalled);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
