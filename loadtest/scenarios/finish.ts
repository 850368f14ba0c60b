/**
 * How every scenario ends: a few voters through the real issuance path,
 * then the correctness check over everything the run acknowledged, receipt
 * by receipt (the cast pools collect the receipts and unknown outcomes).
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
  const { receiptIds, ...shown } = real;
  ctx.summary.realVoters = shown;
  ctx.threshold(
    'real-path voters got receipts',
    `= ${real.voters}`,
    real.receipts,
    real.receipts === real.voters,
  );
  ctx.stopSampling();
  const receipts = new Set(receiptIds);
  const unknown = new Set<string>();
  for (const pool of ctx.pools) {
    if (pool.confirms !== 'ballots') continue;
    for (const id of pool.receipts) receipts.add(id);
    for (const id of pool.unknownIds) unknown.add(id);
  }
  for (const id of receipts) unknown.delete(id);
  const accepted = load.acceptedBallots + real.receipts;
  if (receipts.size !== accepted) {
    ctx.notes.push(
      `${accepted} casts were answered 2xx but ${receipts.size} distinct receipts were collected`,
    );
  }
  ctx.log(`correctness check: ${receipts.size} receipts (${unknown.size} unknown outcomes); reconciling…`);
  const c = await checkCorrectness(ctx.config, run, receipts, unknown);
  ctx.correctness = { ...c };
  ctx.threshold(
    'receipts = Kafka distinct = ClickHouse = tally',
    c.unknown === 0 ? 'all equal' : 'Kafka within [receipts, receipts + unknown]; the rest equal',
    `${c.accepted}${c.unknown === 0 ? '' : ` (+${c.unknown} unknown)`}/${c.kafkaDistinct}/${c.clickhouseStored}/${c.tallyBallots}`,
    c.ok,
  );
  ctx.threshold('accepted ballots lost (receipt not in Kafka)', '= 0', c.lost, c.lost === 0);
  ctx.threshold('ballots in Kafka never given as receipts nor unknown', '= 0', c.extra, c.extra === 0);
  ctx.threshold(
    'Kafka ballotIds = ClickHouse codes, id by id',
    '0 missing, 0 extra',
    `${c.clickhouseMissing} missing, ${c.clickhouseExtra} extra`,
    c.clickhouseMissing === 0 && c.clickhouseExtra === 0,
  );
  if (!c.reconcileOk) ctx.notes.push(`reconcile problems: ${c.reconcileProblems.join('; ')}`);
}
