/**
 * The harness's options: one table of flags (node:util parseArgs), defaults
 * for the long run and for `--short`, validated once into a frozen object.
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind, isFaultKind } from './faults.js';

export interface ChaosOptions {
  readonly short: boolean;
  /** Voters who cast, one ballot each (plus retries). @default 100000; short 3000 */
  readonly ballots: number;
  /** Arrival window, s. @default 900; short 90; with --ballots alone: enough for them and the faults */
  readonly seconds: number;
  /** Faults injected. @default 24; short: one of each kind */
  readonly faults: number;
  readonly kinds: readonly FaultKind[];
  /** @default time-based */
  readonly seed: number;
  /** Write docs/reports/chaos.{json,html}. */
  readonly record: boolean;
  readonly quiet: boolean;
  /** Ingest port (≥ 18900 keeps clear of `npm start` and the load tests). @default 18900 */
  readonly port: number;
  /** @default port + 10 */
  readonly publisherPort: number;
  /** Ingest worker processes. @default 2 */
  readonly processes: number;
  /** Voter processes. @default 2 */
  readonly workers: number;
  /**
   * Share of voters who take the real issuance path; the rest cast pre-signed credentials
   * (`loadtest/credentials.ts`), which have no issuance record, so the publisher refuses
   * every snapshot (cast > issued): below 1 only to study ingest alone. @default 1
   */
  readonly issueShare: number;
  /** Of voters who must retry a cast, the share who change their choices. @default 0.3 */
  readonly changeShare: number;
  /** Voters who later try a different ballot with the same credential. @default 0.02; short 0.05 */
  readonly recastShare: number;
  /** Issuance voters who later ask for a credential on a second device. @default 0.05; short 0.1 */
  readonly secondShare: number;
  /** Client request timeout, ms. @default 15000; short 8000 */
  readonly timeoutMs: number;
  /** Cap of the client's back-off between retries, ms. @default 8000; short 3000 */
  readonly backoffCapMs: number;
  /** INGEST_PRODUCE_TIMEOUT_MS for the ingest under test. @default 10000 (ingest's); short 4000 */
  readonly produceTimeoutMs: number;
  /** Publisher SNAPSHOT_INTERVAL, s. @default 15; short 10 */
  readonly snapshotIntervalSec: number;
  /** How long every broker stays down in `kafka-all-down`, s. @default 30; short 10 */
  readonly allDownSec: number;
  /** Faults on different components may overlap. @default false; short true */
  readonly overlap: boolean;
  /** Voters keep retrying this long after arrivals end, s. @default 45; short 15 */
  readonly drainSec: number;
  /** How long ingest gets to restore the roll after Redis lost it, s. @default 20; short 10 */
  readonly rollGraceSec: number;
  /** Judge a finished run's directory again instead of running (`recheck.ts`). @default null */
  readonly recheck: string | null;
}

export const USAGE = `usage: npm run chaos -- [--short] [options]

  --short                 a few thousand ballots, one fault of each kind, < 3 minutes (npm test runs it)
  --ballots N             voters who cast (100000; short 3000)
  --seconds S             arrival window (900; short 90)
  --faults N              faults injected (24; short: one per kind)
  --kinds a,b,…           fault kinds to draw from (default all: ${FAULT_KINDS.join(', ')})
  --seed N                fault plan and voter behaviour (default: from the clock; printed)
  --overlap               faults on different components may overlap (short: on)
  --record                write docs/reports/chaos.{json,html}
  --port N                ingest port (18900); the publisher uses --publisher-port (port + 10)
  --processes N           ingest workers (2)     --workers N   voter processes (2)
  --issue-share F         voters through real issuance (1; the rest cast pre-signed credentials, and the publisher then refuses)
  --change-share F        change ballot on retry (0.3)
  --recast-share F        try a second ballot later (0.02)     --second-share F  second device (0.05)
  --timeout-ms N          client timeout (15000)  --backoff-cap-ms N  (8000)
  --produce-timeout-ms N  ingest produce timeout (10000; short 4000)
  --snapshot-interval S   publisher interval (15)  --all-down-sec S (30)  --drain-sec S (45)  --roll-grace-sec S (20)
  --recheck DIR           judge a finished run (its test-output/loadtest/runs/<id> directory) again
  --quiet
`;

export class UsageError extends Error {}

const FLAGS = {
  short: { type: 'boolean', default: false },
  ballots: { type: 'string' },
  seconds: { type: 'string' },
  faults: { type: 'string' },
  kinds: { type: 'string' },
  seed: { type: 'string' },
  overlap: { type: 'boolean' },
  record: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  port: { type: 'string' },
  'publisher-port': { type: 'string' },
  processes: { type: 'string' },
  workers: { type: 'string' },
  'issue-share': { type: 'string' },
  'change-share': { type: 'string' },
  'recast-share': { type: 'string' },
  'second-share': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'backoff-cap-ms': { type: 'string' },
  'produce-timeout-ms': { type: 'string' },
  'snapshot-interval': { type: 'string' },
  'all-down-sec': { type: 'string' },
  'drain-sec': { type: 'string' },
  'roll-grace-sec': { type: 'string' },
  recheck: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Voters per second the long run assumes when only --ballots is given. */
const DEFAULT_RATE = 140;
/** Seconds of window per fault when deriving --seconds. */
const SECONDS_PER_FAULT = 40;

export function parseOptions(argv: readonly string[]): ChaosOptions | 'help' {
  let values: ReturnType<typeof parseArgs<{ options: typeof FLAGS }>>['values'];
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const num = (name: keyof typeof FLAGS, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isFinite(n) || n < 0 || n > max) {
      throw new UsageError(`--${name} must be a number in [0, ${max}]`);
    }
    return n;
  };
  const short = values.short === true;
  const kinds = values.kinds === undefined ? [...FAULT_KINDS] : values.kinds.split(',').map((k) => k.trim());
  for (const k of kinds) if (!isFaultKind(k)) throw new UsageError(`unknown fault kind "${k}"`);
  const faultKinds = kinds as FaultKind[];
  const ballots = num('ballots', short ? 3_000 : 100_000);
  const faults = num('faults', short ? faultKinds.length : 24);
  const derivedSeconds = short
    ? 90
    : values.ballots === undefined && values.faults === undefined
      ? 900
      : Math.max(120, Math.ceil(ballots / DEFAULT_RATE), faults * SECONDS_PER_FAULT);
  const port = num('port', 18_900, 65_535);
  const options: ChaosOptions = {
    short,
    ballots,
    seconds: num('seconds', derivedSeconds),
    faults,
    kinds: faultKinds,
    seed: num('seed', Date.now() % 2 ** 31),
    record: values.record === true,
    quiet: values.quiet === true,
    port,
    publisherPort: num('publisher-port', port + 10, 65_535),
    processes: num('processes', 2, 64),
    workers: num('workers', 2, 16),
    issueShare: num('issue-share', 1, 1),
    changeShare: num('change-share', 0.3, 1),
    recastShare: num('recast-share', short ? 0.05 : 0.02, 1),
    secondShare: num('second-share', short ? 0.1 : 0.05, 1),
    timeoutMs: num('timeout-ms', short ? 8_000 : 15_000),
    backoffCapMs: num('backoff-cap-ms', short ? 3_000 : 8_000),
    produceTimeoutMs: num('produce-timeout-ms', short ? 4_000 : 10_000),
    snapshotIntervalSec: num('snapshot-interval', short ? 10 : 15),
    allDownSec: num('all-down-sec', short ? 10 : 30),
    overlap: values.overlap ?? short,
    drainSec: num('drain-sec', short ? 15 : 45),
    rollGraceSec: num('roll-grace-sec', short ? 10 : 20),
    recheck: values.recheck ?? null,
  };
  if (options.ballots < 1 || options.seconds < 10) throw new UsageError('--ballots ≥ 1 and --seconds ≥ 10');
  if (options.processes < 1 || options.workers < 1) throw new UsageError('--processes and --workers ≥ 1');
  return Object.freeze(options);
}
