/**
 * `npm run aggregator -- <command>`
 *
 *   migrate                        apply pending ClickHouse migrations (idempotent)
 *   lag                            consumer lag per stream/topic/partition
 *   reconcile [--election <id>]    Kafka = ballots_raw = tally, per region; exit 1 on mismatch
 *                                  (with --election: resumes from its checkpoint; prints conflicts by count)
 *             [--timeout <s>]      how long to wait for the lag to drain (default 60)
 *   repair --election <id> [--region <code>]
 *                                  re-insert the election's ballots from Kafka (after a reconcile mismatch)
 *
 * Exit codes: 0 ok, 1 mismatch or failure, 2 usage.
 */
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { AggregatorError, isAggregatorError } from './errors.js';
import { formatLagTable, readLag } from './lag.js';
import { migrate } from './migrate.js';
import { formatReconcileTable, reconcile } from './reconcile.js';
import { repair } from './repair.js';

const USAGE =
  'usage: npm run aggregator -- migrate | lag | reconcile [--election <id>] [--timeout <seconds>]' +
  ' | repair --election <id> [--region <code>]';

function option(args: readonly string[], name: string): string | null {
  const at = args.indexOf(name);
  if (at === -1) return null;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--'))
    throw new AggregatorError('usage', `${name} needs a value`);
  return value;
}

async function main(args: readonly string[]): Promise<number> {
  const config = loadConfig();
  const log = createLogger('aggregator', config.logLevel);
  const [command, ...rest] = args;
  switch (command) {
    case 'migrate': {
      const result = await migrate(config, log);
      const applied =
        result.applied.length === 0 ? 'nothing to apply' : `applied ${result.applied.join(', ')}`;
      process.stdout.write(
        `${result.database}: ${applied} (already applied: ${result.alreadyApplied.length})\n`,
      );
      return 0;
    }
    case 'lag': {
      const lag = await readLag(config, log);
      process.stdout.write(formatLagTable(lag));
      return 0;
    }
    case 'reconcile': {
      const election = option(rest, '--election');
      const timeout = Number(option(rest, '--timeout') ?? '60');
      if (!Number.isFinite(timeout) || timeout < 0)
        throw new AggregatorError('usage', '--timeout must be seconds');
      const report = await reconcile(config, log, { election, settleTimeoutMs: timeout * 1000 });
      process.stdout.write(formatReconcileTable(report));
      return report.ok ? 0 : 1;
    }
    case 'repair': {
      const election = option(rest, '--election');
      if (election === null) throw new AggregatorError('usage', USAGE);
      const { reinserted } = await repair(config, log, { election, region: option(rest, '--region') });
      process.stdout.write(`${election}: re-inserted ${reinserted} ballot records; run reconcile again\n`);
      return 0;
    }
    default:
      throw new AggregatorError('usage', USAGE);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isAggregatorError(error)) {
      process.stderr.write(`aggregator: ${error.code}: ${error.message}\n`);
      process.exitCode = error.code === 'usage' ? 2 : 1;
    } else {
      process.stderr.write(
        `aggregator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
