/**
 * The insider harness's options (node:util parseArgs), defaults for the long
 * run and for `--short`, validated once into a frozen object. k and T of the
 * promise default to the system's own settings when it has them
 * (`INGEST_MIX_MIN_BALLOTS`, `INGEST_MIX_MAX_WAIT_MS`), else to 8 and 1000 ms;
 * the harness passes the same values to the ingest it starts.
 */
import { parseArgs } from 'node:util';
import type { MixScope } from './anonymity.js';

export interface InsiderOptions {
  readonly short: boolean;
  /** Voters, one credential and one ballot each. @default 30000; short 1500 */
  readonly voters: number;
  /** Arrival window (off-peak 30 %, peak 40 %, off-peak 30 % of it), s. @default 600; short 60 */
  readonly seconds: number;
  /** Median think time between credential and cast, ms. @default 30000; short 3000 */
  readonly thinkMedianMs: number;
  /** σ of ln(think). @default 1 */
  readonly thinkSigma: number;
  /** k of the mixing promise. @default INGEST_MIX_MIN_BALLOTS or 8 */
  readonly mixK: number;
  /** T of the mixing promise, ms. @default INGEST_MIX_MAX_WAIT_MS or 1000 */
  readonly mixTMs: number;
  /** Windows per district (each district mixes alone) or per region. @default district */
  readonly mixScope: MixScope;
  /** Share of the voters who are targets. @default 1 */
  readonly targetShare: number;
  readonly seed: number;
  /** Write docs/reports/insider.{json,html}. */
  readonly record: boolean;
  readonly quiet: boolean;
  /** Ingest port (18950 keeps clear of the chaos harness's 18900–18910). @default 18950 */
  readonly port: number;
  /** @default port + 10 */
  readonly publisherPort: number;
  readonly processes: number;
  readonly workers: number;
}

export const USAGE = `usage: npm run insider -- [--short] [options]

  --short                a small election (tiny: 2 regions, 3 districts), < 2.5 minutes (npm test runs it)
  --voters N             voters (30000; short 1500)
  --seconds S            arrival window, off-peak / peak / off-peak (600; short 60)
  --think-median-ms N    median time from credential to cast (30000; short 3000)
  --think-sigma F        σ of its logarithm (1)
  --mix-k N              k of the promise (INGEST_MIX_MIN_BALLOTS or 8)
  --mix-t-ms N           T of the promise (INGEST_MIX_MAX_WAIT_MS or 1000)
  --mix-scope S          district | region (district)
  --target-share F       share of voters who are targets (1)
  --seed N               arrivals and voter behaviour (default: from the clock; printed)
  --record               write docs/reports/insider.{json,html}
  --port N               ingest port (18950); the publisher uses --publisher-port (port + 10)
  --processes N          ingest workers (2)     --workers N   voter processes (2)
  --quiet
`;

export class UsageError extends Error {}

const FLAGS = {
  short: { type: 'boolean', default: false },
  voters: { type: 'string' },
  seconds: { type: 'string' },
  'think-median-ms': { type: 'string' },
  'think-sigma': { type: 'string' },
  'mix-k': { type: 'string' },
  'mix-t-ms': { type: 'string' },
  'mix-scope': { type: 'string' },
  'target-share': { type: 'string' },
  seed: { type: 'string' },
  record: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  port: { type: 'string' },
  'publisher-port': { type: 'string' },
  processes: { type: 'string' },
  workers: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The system's own mix settings, when the code under test has them (common/config.ts). */
export interface MixSettings {
  readonly mixMinBallots?: number;
  readonly mixMaxWaitMs?: number;
}

export function parseOptions(argv: readonly string[], system: MixSettings): InsiderOptions | 'help' {
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
  const scope = values['mix-scope'] ?? 'district';
  if (scope !== 'district' && scope !== 'region') throw new UsageError('--mix-scope is district or region');
  const port = num('port', 18_950, 65_535);
  const options: InsiderOptions = {
    short,
    voters: num('voters', short ? 1_500 : 30_000),
    seconds: num('seconds', short ? 60 : 600),
    thinkMedianMs: num('think-median-ms', short ? 3_000 : 30_000),
    thinkSigma: num('think-sigma', 1, 4),
    mixK: num('mix-k', system.mixMinBallots ?? 8),
    mixTMs: num('mix-t-ms', system.mixMaxWaitMs ?? 1_000),
    mixScope: scope,
    targetShare: num('target-share', 1, 1),
    seed: num('seed', Date.now() % 2 ** 31),
    record: values.record === true,
    quiet: values.quiet === true,
    port,
    publisherPort: num('publisher-port', port + 10, 65_535),
    processes: num('processes', 2, 64),
    workers: num('workers', 2, 16),
  };
  if (options.voters < 10 || options.seconds < 10) throw new UsageError('--voters ≥ 10 and --seconds ≥ 10');
  if (options.mixK < 1 || options.thinkMedianMs < 1)
    throw new UsageError('--mix-k ≥ 1 and --think-median-ms ≥ 1');
  return Object.freeze(options);
}
