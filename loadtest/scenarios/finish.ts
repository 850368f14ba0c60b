/**
 * How every scenario ends: a few voters through the real issuance path,
 * then the correctness check over everything the run acknowledged.
 */
import { checkCorrectness } from '../correctness.js';
import { runRealVoters } from '../real-voters.js';
import type { RunContext } from '../run-context.js';

export interface LoadOutcome {
  /** 201 receipts the load workers got for ballots. */
  readonly acceptedBallots: number;
  /** Ballot requests whose outcome was never seen (timeouts, resets). */
  readonly unknownBallots: number;
}

export async function realVotersAndCorrectness(
  ctx: RunContext,
  load: LoadOutcome,
  realVoters: number,
): Promise<void> {
  const run = ctx.run!;
  const base = `http://127.0.0.1:${ctx.ports[0]}`;
  ctx.log(`${realVoters} voters through the real path (login → blind → credential → finalize → cast)`);
  const real = await runRealVoters(run, base, realVoters);
  ctx.summary.realVoters = real;
  ctx.threshold(
    'real-path voters got receipts',
    `= ${real.voters}`,
    real.receipts,
    real.receipts === real.voters,
  );
  ctx.stopSampling();
  const accepted = load.acceptedBallots + real.receipts;
  ctx.log(
    `correctness check: ${accepted} accepted receipts (${load.unknownBallots} unknown outcomes); reconciling…`,
  );
  const c = await checkCorrectness(ctx.config, run, accepted, load.unknownBallots);
  ctx.correctness = { ...c };
  ctx.threshold(
    'receipts = Kafka distinct = ClickHouse = tally',
    c.unknown === 0 ? 'all equal' : 'Kafka within [receipts, receipts + unknown]; the rest equal',
    `${c.accepted}${c.unknown === 0 ? '' : ` (+${c.unknown} unknown)`}/${c.kafkaDistinct}/${c.clickhouseStored}/${c.tallyBallots}`,
    c.ok,
  );
  ctx.threshold('accepted ballots lost', '= 0', c.lost, c.lost === 0);
  ctx.threshold('ballots counted that were not accepted', '= 0', c.extra, c.extra === 0);
  if (!c.reconcileOk) ctx.notes.push(`reconcile problems: ${c.reconcileProblems.join('; ')}`);
}
