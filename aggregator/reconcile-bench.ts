/**
 * Benchmark of the incremental reconcile: `tsx aggregator/reconcile-bench.ts`
 * (options: `--ballots 370000 --more 1000`, or `--election <id>` to reuse an
 * election an earlier run produced instead of producing `--ballots`).
 *
 *   produce N ballots for a fresh synthetic election (20 regions; its log
 *   start recorded first, as `election init` does) ─► wait for ClickHouse
 *   ─► reconcile with no checkpoint from the start of the log (what every
 *   reconcile cost before), and from the election's log start ─► produce M more
 *   ─► reconcile again in the same Reconciler (the publisher between
 *   snapshots) ─► produce M more ─► reconcile in a new Reconciler, resuming
 *   from the checkpoint on disk (a restarted publisher, or the CLI).
 *
 * Times are in-process (no tsx start-up). First it measures what the
 * first-record index of 400,000 and 800,000 ballots holds in memory (run
 * with `node --expose-gc --import tsx` for that figure). Writes `test-output/reconcile-bench-<time>.json`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { TOPICS } from '../common/records.js';
import { keysDir } from '../election/keys.js';
import { recordLogStart } from '../election/log-start.js';
import { FirstRecordIndex } from './first-record.js';
import { createKafka } from './kafka.js';
import { awaitSettled, LagReader } from './lag.js';
import { type ReconcileReport, Reconciler } from './reconcile.js';
import { STREAMS } from './streams.js';
import {
  connectProducer,
  produceBallots,
  syntheticBallot,
  syntheticBallotId,
  syntheticElection,
} from './synthetic.js';

const config = loadConfig();
const log = createLogger('reconcile-bench', config.logLevel);

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

async function endOffsets(): Promise<ReadonlyMap<string, number>> {
  const reader = new LagReader(config, log, { streams: [] });
  try {
    return await reader.endOffsets([TOPICS.ballots]);
  } finally {
    await reader.close();
  }
}

async function produce(id: string, from: number, n: number): Promise<void> {
  const election = syntheticElection(id, 20);
  const producer = await connectProducer(createKafka(config, log, 'saylau-reconcile-bench'));
  const partitions = (await endOffsets()).size;
  try {
    for (let start = from; start < from + n; start += 10_000) {
      const size = Math.min(10_000, from + n - start);
      const ballots = Array.from({ length: size }, (_, i) => syntheticBallot(election, start + i));
      await produceBallots(producer, ballots, partitions);
    }
  } finally {
    await producer.disconnect();
  }
  await awaitSettled(config, log, {
    streams: STREAMS.filter((s) => s.topic === TOPICS.ballots),
    timeoutMs: 900_000,
  });
}

/**
 * Heap and buffers a FirstRecordIndex of `n` ballots holds (ids as JSON.parse
 * makes them, SHA-256 hex hashes), measured alone: needs --expose-gc.
 */
function memoryOf(n: number): { ballots: number; mb: number; bytesPerBallot: number } | null {
  if (global.gc === undefined) return null;
  const held = (): number => {
    global.gc?.();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = held();
  let index: FirstRecordIndex | null = new FirstRecordIndex();
  for (let i = 0; i < n; i++) {
    const { ballotId, ballotHash } = JSON.parse(
      JSON.stringify({
        ballotId: syntheticBallotId(`memory/${i}`),
        ballotHash: createHash('sha256').update(String(i)).digest('hex'),
      }),
    ) as { ballotId: string; ballotHash: string };
    index.observe(ballotId, ballotHash, 0, i % 20, i);
  }
  const bytes = held() - before;
  // Used after the measurement, so the collector cannot take it before.
  if (index.size !== n) throw new Error(`index holds ${index.size} ballots, not ${n}`);
  index = null;
  global.gc?.();
  return { ballots: n, mb: Math.round(bytes / 1e6), bytesPerBallot: Math.round(bytes / n) };
}

async function timed(reconciler: Reconciler): Promise<{ seconds: number; report: ReconcileReport }> {
  const started = process.hrtime.bigint();
  const report = await reconciler.run();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, report };
}

const summary = ({ seconds, report }: { seconds: number; report: ReconcileReport }) => ({
  seconds: Math.round(seconds * 100) / 100,
  ok: report.ok,
  resumed: report.resumed,
  scanned: report.scanned,
  records: report.records,
  rounds: report.rounds,
});

async function main(): Promise<void> {
  const ballots = Number(arg('--ballots', '370000'));
  const more = Number(arg('--more', '1000'));
  const indexMemory = [400_000, 800_000].map(memoryOf);
  let id = arg('--election', '');
  let produced = 0;
  if (id === '') {
    id = `bench-rec-${Date.now().toString(36)}`;
    await mkdir(keysDir(config.stackDir, id), { recursive: true });
    await recordLogStart(config, id);
    await produce(id, 0, ballots);
    produced = ballots;
  }
  const dir = join(config.stackDir, 'reconcile');
  await rm(join(dir, `${encodeURIComponent(id)}.json`), { force: true });
  const options = { election: id, settleTimeoutMs: 600_000 };

  // The whole topic, as every reconcile read it before: no checkpoint, no log start.
  const wholeLog = await timed(
    new Reconciler(config, log, { ...options, checkpointDir: null, logStart: new Map() }),
  );
  const publisher = new Reconciler(config, log, options);
  const fresh = await timed(publisher);
  const existing = fresh.report.records;
  await produce(id, existing, more);
  const inMemory = await timed(publisher);
  await produce(id, existing + more, more);
  const fromDisk = await timed(new Reconciler(config, log, options));

  const topic = await endOffsets();
  const result = {
    election: id,
    produced,
    topicRecords: [...topic.values()].reduce((a, b) => a + b, 0),
    indexMemory,
    freshWholeLog: summary(wholeLog),
    fresh: summary(fresh),
    followUpFromCheckpoint: summary(fromDisk),
    followUpInMemory: summary(inMemory),
  };
  mkdirSync(join(repoRoot, 'test-output'), { recursive: true });
  const out = join(repoRoot, 'test-output', `reconcile-bench-${Date.now()}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${out}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
