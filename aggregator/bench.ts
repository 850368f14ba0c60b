/**
 * Benchmark of the Kafka → ClickHouse path: `tsx aggregator/bench.ts`
 * (options: `--rates 1000,10000 --seconds 20 --backlog 100000`, and
 * `--block-size N` to measure another kafka_max_block_size on a throwaway
 * schema instead of the real one; `--backlog 0` skips the throughput run).
 *
 * 1. Freshness at steady rates. Ballots are produced (acks=all) in 50 ms
 *    batches; each batch's ballots vote for candidate `t<batch>` in race
 *    `bench`, so polling the tally every 100 ms shows when each batch became
 *    counted. Latency = counted − acknowledged (the moment ingest would give
 *    the voter a receipt), weighted per ballot; p50/p99 reported.
 * 2. Ingest throughput. A backlog is produced as fast as kafkajs can, and
 *    the rate at which `tally` and `ballots_raw` absorb it is measured,
 *    overall and after production stopped (the drain rate is ClickHouse's
 *    own speed when it is the bottleneck).
 *
 * Writes `test-output/aggregator-bench-<time>.json`. Uses its own election
 * ids on the shared topics, like the tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { TOPICS } from '../common/records.js';
import { ClickHouse } from './client.js';
import { createKafka } from './kafka.js';
import { LagReader } from './lag.js';
import { migrate } from './migrate.js';
import { initial } from './migrations/001-initial.js';
import { separateTurnout } from './migrations/004-separate-turnout.js';
import type { Migration } from './migrations/index.js';
import { KAFKA_MAX_BLOCK_SIZE } from './migrations/kafka-table.js';
import { idLiteral } from './sql.js';
import { streamGroup } from './streams.js';
import {
  connectProducer,
  produceBallots,
  type SyntheticBallot,
  syntheticBallot,
  syntheticElection,
} from './synthetic.js';

const config = loadConfig();
const log = createLogger('aggregator-bench', config.logLevel);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

interface FreshnessResult {
  readonly rate: number;
  readonly achievedRate: number;
  readonly ballots: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly uncounted: number;
}

function percentile(samples: readonly (readonly [ms: number, weight: number])[], q: number): number {
  const sorted = [...samples].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((s, [, w]) => s + w, 0);
  let seen = 0;
  for (const [ms, weight] of sorted) {
    seen += weight;
    if (seen >= q * total) return ms;
  }
  return sorted.at(-1)?.[0] ?? Number.NaN;
}

async function freshness(
  ch: ClickHouse,
  producer: Producer,
  partitions: number,
  rate: number,
  seconds: number,
) {
  const election = syntheticElection(`bench-fresh-${rate}-${Date.now().toString(36)}`);
  const perBatch = Math.max(1, Math.round(rate / 20));
  const batches = Math.round((seconds * 1000) / 50);
  const ackedAt = new Map<string, number>();
  const produced = new Map<string, number>();
  const counted = new Map<string, number>();
  const samples: [number, number][] = [];
  let producing = true;

  const poll = async (): Promise<void> => {
    const rows = await ch.rows<{ candidate: string; votes: string }>(
      `SELECT candidate, uniqExactMerge(ballots) AS votes FROM tally
       WHERE election = ${idLiteral(election.id)} AND race = 'bench' GROUP BY candidate`,
    );
    const now = Date.now();
    for (const row of rows) {
      const before = counted.get(row.candidate) ?? 0;
      const votes = Number(row.votes);
      const acked = ackedAt.get(row.candidate);
      if (votes > before && acked !== undefined) samples.push([now - acked, votes - before]);
      counted.set(row.candidate, votes);
    }
  };
  const poller = (async () => {
    const total = perBatch * batches;
    const deadline = () => (producing ? Number.POSITIVE_INFINITY : Date.now() + 60_000);
    let stopAt = Number.POSITIVE_INFINITY;
    for (;;) {
      await poll();
      const sum = [...counted.values()].reduce((a, b) => a + b, 0);
      if (!producing && stopAt === Number.POSITIVE_INFINITY) stopAt = deadline();
      if ((!producing && sum >= total) || Date.now() > stopAt) return;
      await sleep(100);
    }
  })();

  const started = Date.now();
  let index = 0;
  for (let b = 0; b < batches; b++) {
    const due = started + b * 50;
    if (due > Date.now()) await sleep(due - Date.now());
    const marker = `t${b}`;
    const batch: SyntheticBallot[] = [];
    for (let i = 0; i < perBatch; i++) {
      batch.push(syntheticBallot(election, index++, { selections: () => [['bench', marker]] }));
    }
    // Not awaited in order: at 10k/s a produce round trip is longer than the 50 ms slot.
    void produceBallots(producer, batch, partitions, perBatch).then(() => {
      ackedAt.set(marker, Date.now());
      produced.set(marker, perBatch);
    });
  }
  while (produced.size < batches) await sleep(20);
  const achievedRate = (perBatch * batches) / ((Date.now() - started) / 1000);
  producing = false;
  await poller;
  const countedTotal = [...counted.values()].reduce((a, b) => a + b, 0);
  const result: FreshnessResult = {
    rate,
    achievedRate: Math.round(achievedRate),
    ballots: perBatch * batches,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    maxMs: percentile(samples, 1),
    uncounted: perBatch * batches - countedTotal,
  };
  log.info(result, 'freshness');
  return result;
}

/** The three `ballots` streams (migrations 1 and 4) and their tables, for a throwaway database. */
const ballotStreamsOnly: Migration = {
  version: 1,
  name: 'bench: ballots streams only',
  starts: [],
  statements: (ctx) =>
    [...initial.statements(ctx), ...separateTurnout.statements(ctx)]
      .filter((sql) =>
        /(TABLE IF NOT EXISTS (ballots_raw|tally|cast_turnout)(_queue)?\b)|(VIEW IF NOT EXISTS (ballots_raw|tally|cast_turnout)_mv)/.test(
          sql,
        ),
      )
      // Tables, then queues, then views, as in the migrations.
      .sort((a, b) => rank(a) - rank(b)),
};

function rank(sql: string): number {
  if (sql.includes('_queue (')) return 1;
  if (sql.includes('MATERIALIZED VIEW')) return 2;
  return 0;
}

interface BenchSchema {
  readonly database: string;
  readonly ch: ClickHouse;
  close(): Promise<void>;
}

/**
 * A throwaway database with the three ballot streams, their groups pointed
 * at `from` (so they skip the topic's history), with a given block size.
 * The shared pipeline is not touched.
 */
async function openBenchSchema(
  from: readonly { partition: number; high: string }[],
  blockSize: number,
): Promise<BenchSchema> {
  const database = `saylau_bench_${Date.now().toString(36)}`;
  const kafka = createKafka(config, log, 'saylau-aggregator-bench');
  const admin = kafka.admin();
  await admin.connect();
  const groups = ['ballots_raw', 'tally', 'cast_turnout'].map((s) => streamGroup(database, s));
  await Promise.all(
    groups.map((groupId) =>
      admin.setOffsets({
        groupId,
        topic: TOPICS.ballots,
        partitions: from.map((p) => ({ partition: p.partition, offset: p.high })),
      }),
    ),
  );
  await migrate(config, log, { database, migrations: [ballotStreamsOnly], kafkaMaxBlockSize: blockSize });
  const ch = new ClickHouse(config, { database });
  return {
    database,
    ch,
    async close() {
      await ch.command(`DROP DATABASE IF EXISTS ${database}`);
      await ch.close();
      await admin
        .deleteGroups(groups)
        .catch((error: unknown) => log.warn({ err: error }, 'bench groups not deleted'));
      await admin.disconnect();
    },
  };
}

async function topicEnds(): Promise<{ partition: number; high: string }[]> {
  const admin = createKafka(config, log, 'saylau-aggregator-bench').admin();
  await admin.connect();
  try {
    return await admin.fetchTopicOffsets(TOPICS.ballots);
  } finally {
    await admin.disconnect();
  }
}

/**
 * ClickHouse's own ingest rate: a backlog is produced first, then a bench
 * schema whose groups start at the backlog's first offsets is created, and
 * the time until all three tables hold the whole backlog is measured.
 */
async function throughput(producer: Producer, partitions: number, backlog: number, blockSize: number) {
  const election = syntheticElection(`bench-tput-${Date.now().toString(36)}`);
  const ballots = Array.from({ length: backlog }, (_, i) => syntheticBallot(election, i));
  const before = await topicEnds();
  const produceStart = Date.now();
  await produceBallots(producer, ballots, partitions, 2000);
  const produceRate = Math.round(backlog / ((Date.now() - produceStart) / 1000));
  const started = Date.now();
  const bench = await openBenchSchema(before, blockSize);
  const count = async (sql: string) => Number((await bench.ch.rows<{ n: string }>(sql))[0]?.n ?? 0);
  const e = idLiteral(election.id);
  const done = { ballots_raw: 0, tally: 0, turnout: 0 };
  try {
    while (Object.values(done).some((t) => t === 0) && Date.now() - started < 300_000) {
      const [raw, tally, turnout] = await Promise.all([
        count(`SELECT uniqExact(ballot_id) AS n FROM ballots_raw WHERE election = ${e}`),
        count(`SELECT uniqExactMerge(ballots) AS n FROM tally WHERE election = ${e} AND race = 'president'`),
        count(`SELECT uniqExactMerge(ballots_cast) AS n FROM cast_turnout WHERE election = ${e}`),
      ]);
      const now = Date.now();
      if (done.ballots_raw === 0 && raw >= backlog) done.ballots_raw = now;
      if (done.tally === 0 && tally >= backlog) done.tally = now;
      if (done.turnout === 0 && turnout >= backlog) done.turnout = now;
      await sleep(100);
    }
    const rate = (t: number) => (t === 0 ? null : Math.round(backlog / ((t - started) / 1000)));
    const result = {
      backlog,
      produceRate,
      // All three streams drain the same backlog at once, as in production.
      ballotsRawRate: rate(done.ballots_raw),
      tallyRate: rate(done.tally),
      turnoutRate: rate(done.turnout),
      allThreeSeconds: Object.values(done).some((t) => t === 0)
        ? null
        : (Math.max(...Object.values(done)) - started) / 1000,
    };
    log.info(result, 'throughput');
    return result;
  } finally {
    await bench.close();
  }
}

async function main(): Promise<void> {
  const rates = arg('--rates', '1000,10000')
    .split(',')
    .map(Number)
    .filter((r) => r > 0);
  const seconds = Number(arg('--seconds', '20'));
  const backlog = Number(arg('--backlog', '100000'));
  // Without --block-size, freshness is measured on the real schema; with it, on a bench schema.
  const blockSizeArg = arg('--block-size', '');
  const blockSize = blockSizeArg === '' ? KAFKA_MAX_BLOCK_SIZE : Number(blockSizeArg);
  await migrate(config, log);
  const bench = blockSizeArg === '' ? null : await openBenchSchema(await topicEnds(), blockSize);
  const ch = bench?.ch ?? new ClickHouse(config);
  const producer = await connectProducer(createKafka(config, log, 'saylau-aggregator-bench'), {
    idempotent: false,
  });
  const reader = new LagReader(config, log, { streams: [] });
  const partitions = (await reader.watermarks(['ballots'])).ends.size;
  await reader.close();
  let closed = false;
  const closeSchema = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await (bench === null ? ch.close() : bench.close());
  };
  try {
    const version = (await ch.rows<{ v: string }>('SELECT version() AS v'))[0]?.v;
    const fresh: FreshnessResult[] = [];
    for (const rate of rates) fresh.push(await freshness(ch, producer, partitions, rate, seconds));
    // The freshness schema stops consuming before the throughput run starts its own.
    await closeSchema();
    const tput = backlog > 0 ? await throughput(producer, partitions, backlog, blockSize) : null;
    const report = {
      at: new Date().toISOString(),
      clickhouse: version,
      kafkaMaxBlockSize: blockSize,
      freshnessSchema: bench === null ? config.clickhouse.database : 'throwaway (--block-size)',
      freshness: fresh,
      throughput: tput,
    };
    const dir = join(repoRoot, 'test-output', 'bench');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `aggregator-${Date.now()}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    for (const f of fresh) {
      process.stdout.write(
        `block ${blockSize}, ${f.rate}/s (achieved ${f.achievedRate}/s, ${f.ballots} ballots): vote→counted ` +
          `p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms, uncounted ${f.uncounted}\n`,
      );
    }
    if (tput !== null) {
      process.stdout.write(
        `block ${blockSize}, backlog ${tput.backlog} (produced at ${tput.produceRate}/s): ClickHouse drained ` +
          `tally ${tput.tallyRate}/s, ballots_raw ${tput.ballotsRawRate}/s, turnout ${tput.turnoutRate}/s ` +
          `(3 streams at once)\n`,
      );
    }
    process.stdout.write(`${file}\n`);
  } finally {
    await producer.disconnect();
    await closeSchema();
  }
}

await main();
