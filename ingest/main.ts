/**
 * The ingest supervisor: hosts the ledger (the host's one Kafka producer and
 * the follower that reads the log back, applies it to Redis and rebuilds
 * Redis when it lost data), forks
 * `INGEST_PROCESSES` copies of `server.ts` (one uWS app each, all listening
 * on the same port with SO_REUSEPORT, so the kernel spreads connections) that
 * relay their ledger writes to it, restarts a worker that crashes (with
 * back-off), and on SIGTERM/SIGINT forwards the signal, waits for every
 * worker to drain, then flushes the producer and exits.
 *
 *   main ──fork──► server #0 ─┐
 *    │   ──fork──► server #1 ─┼─► :8080 (SO_REUSEPORT) [+ INGEST_EXTRA_PORTS]
 *    │   ──fork──► server #N ─┘   and each on INGEST_OPS_PORT (SO_REUSEPORT): /healthz /readyz /metrics
 *    └── LedgerHost ◄── writes / verdicts over IPC (ledger/relay-*.ts) ──► Kafka ⇄ Redis
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../common/config.js';
import { createLogger, loggableError } from '../common/log.js';
import { loadElection, readPepper } from '../election/index.js';
import { LedgerHost } from './ledger/ledger-host.js';
import { RelayHost } from './ledger/relay-host.js';
import { HOST_SECRET_ANSWER, HOST_SECRET_REQUEST, newHostSecret } from './limits/host-secret.js';
import { checkIdentityConfig } from './token-verifier.js';

const config = loadConfig();
const log = createLogger('ingest-main', config.logLevel);
const serverFile = fileURLToPath(
  new URL(`./server${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/** A worker that lived this long is healthy again: its restart back-off resets. */
const STABLE_MS = 30_000;
const MAX_BACKOFF_MS = 10_000;

interface Slot {
  child: ChildProcess | null;
  /** The worker reported ready: it may have accepted traffic, so it must drain cleanly. */
  ready: boolean;
  startedAt: number;
  backoffMs: number;
}

const slots: Slot[] = Array.from({ length: config.ingest.processes }, () => ({
  child: null,
  ready: false,
  startedAt: 0,
  backoffMs: 250,
}));
let stopping = false;
let exitCode = 0;
try {
  // Workers would only fail on it, one restart after another: say so once and stop.
  checkIdentityConfig(config);
} catch (err) {
  log.fatal({ err: loggableError(err), code: 'SAYLAU_ERR_START' }, 'ingest cannot start');
  process.exit(1);
}
const election = loadElection(config.election);
const host = new LedgerHost({
  config,
  election,
  // The supervisor signs nothing: the pepper is all it holds, to restore the roll after Redis lost it.
  keys: { pepper: await readPepper(config.stackDir, election.id) },
  log,
  onSend: (info) => relay.countSend(info),
  onMix: (info) => relay.countMix(info),
});
const relay = new RelayHost(host, log);
/** One per host and run: the workers' issuance limits and signature cache are host-wide (limits/host-secret.ts). */
const hostSecret = newHostSecret();

function start(index: number): void {
  const slot = slots[index]!;
  // Children inherit this process's execArgv (`--import tsx` when run from source).
  const child = fork(serverFile, [], {
    env: { ...process.env, INGEST_WORKER: String(index) },
    serialization: 'advanced',
  });
  relay.attach(child);
  slot.child = child;
  slot.ready = false;
  slot.startedAt = Date.now();
  child.on('message', (message: { type?: string }) => {
    if (message.type === 'ready') slot.ready = true;
    // Over IPC, never in the worker's environment (limits/host-secret.ts says why).
    if (message.type === HOST_SECRET_REQUEST) child.send({ type: HOST_SECRET_ANSWER, secret: hostSecret });
  });
  child.on('exit', (code, signal) => {
    slot.child = null;
    if (stopping) {
      // A worker killed before it was ready never took a request: nothing to drain.
      const clean = code === 0 || (!slot.ready && signal === 'SIGTERM');
      if (!clean) {
        exitCode = 1;
        log.error({ worker: index, code, signal }, 'ingest worker did not drain cleanly');
      }
      if (slots.every((s) => s.child === null)) void finish();
      return;
    }
    if (Date.now() - slot.startedAt > STABLE_MS) slot.backoffMs = 250;
    log.error(
      { worker: index, code, signal, restartInMs: slot.backoffMs },
      'ingest worker exited; restarting',
    );
    setTimeout(() => {
      if (!stopping) start(index);
    }, slot.backoffMs);
    slot.backoffMs = Math.min(slot.backoffMs * 2, MAX_BACKOFF_MS);
  });
}

function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  // Workers drain requests that wait for the mix: release it rather than wait out its T.
  host.releaseMix();
  log.info({ signal }, 'stopping ingest workers');
  let running = 0;
  for (const slot of slots) {
    if (slot.child !== null) {
      running++;
      slot.child.kill('SIGTERM');
    }
  }
  if (running === 0) void finish();
}

/** Every worker is gone: what they relayed is written and read back before we exit. */
async function finish(): Promise<void> {
  relay.stop();
  await host.close().catch((err: unknown) => {
    exitCode = 1;
    log.error({ err: loggableError(err), code: 'SAYLAU_ERR_SHUTDOWN' }, 'ledger host did not close cleanly');
  });
  log.info({ exitCode }, 'all ingest workers stopped');
  process.exit(exitCode);
}

/** Kafka or Redis may still be starting: keep trying (a stop request ends the wait). */
async function startLedger(): Promise<boolean> {
  for (let delayMs = 250; !stopping; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      await host.start();
      return true;
    } catch (err) {
      log.warn(
        { err: loggableError(err), code: 'SAYLAU_ERR_LEDGER_START', retryInMs: delayMs },
        'ledger not ready yet',
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  return false;
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
// Whoever started us (npm start, a test, systemd) owns our lifetime: if it
// dies without stopping us, drain and exit rather than restart workers forever.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) stop('SIGTERM');
}, 1000).unref();
log.info(
  {
    processes: slots.length,
    port: config.ingest.port,
    extraPorts: config.ingest.extraPorts,
    opsPort: config.ingest.opsPort,
  },
  'starting ingest',
);
if (await startLedger()) {
  for (let i = 0; i < slots.length; i++) if (!stopping) start(i);
}
