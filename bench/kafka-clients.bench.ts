/**
 * Kafka clients for the record log, measured in the ledger's workload
 * (STYLE 13): kafkajs 2.2.4 (today) against @platformatic/kafka 1.35.0, each
 * with and without the idempotent producer.
 *
 *   produce, per configuration   saturation (offered load unlimited)       records/s acknowledged
 *                                open model at each of --rates             append → ack p50/p90/p99/max
 *                                every phase                               producer and brokers' CPU ms per 1k records
 *   read, per reader             every record of the topic, first → end    records/s, CPU ms per 1k records
 *
 * Workload: ballot records as ingest writes them (kafka-clients/ballots.ts), an
 * explicit partition per record over 20 partitions, acks=all, the record
 * log's loop (one send in flight, linger, max batch, shuffle;
 * kafka-clients/record-batcher.ts) with INGEST_PRODUCE_* from the config, on
 * the dedicated topic `bench-ledger`. Every run is its own forked process so
 * `process.cpuUsage()` is that configuration's alone; a `harness-only` run (no
 * Kafka) measures the benchmark's own share. Rounds alternate the order
 * (forward, reversed, …); figures are medians over rounds, with ratios to
 * kafkajs-idempotent (reads: the kafkajs consumer) paired by round.
 *
 *   npm run bench -- kafka-clients [--rounds 3] [--phases saturation,rates,read]
 *        [--saturation-sec 15] [--rate-sec 20] [--rates 1000,2500] [--warmup-sec 3]
 *        [--read-records 1000000] [--stack-dir <.stack of the running stack>] [--election sample] [--out <json>]
 *
 *   npm run bench -- kafka-clients --summarise docs/reports/kafka-clients.json   (tables again from a report's runs)
 *
 * Uses the running stack and starts or stops nothing. Writes docs/reports/kafka-clients.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.js';
import { repoRoot } from '../common/paths.js';
import { prepareBallots, valueBytes } from './kafka-clients/ballots.js';
import { type Job, READERS } from './kafka-clients/jobs.js';
import {
  BASELINE,
  CONFIGURATIONS,
  HARNESS,
  type Phase,
  READ_BASELINE,
  summariseRuns,
} from './kafka-clients/report.js';
import { describeRun, measureRun, type Run } from './kafka-clients/runner.js';
import {
  BENCH_PARTITIONS,
  BENCH_TOPIC,
  ensureBenchTopic,
  type LeaderSpread,
  preferLeaders,
  rangeRecords,
  seedBenchTopic,
  topicRanges,
  truncateBenchTopic,
  waitForBenchTopic,
} from './kafka-clients/topic.js';
import { brokerPids } from './kafka-clients/usage.js';

const config = loadConfig();
const { values: args } = parseArgs({
  args: process.argv.slice(3),
  options: {
    rounds: { type: 'string', default: '3' },
    phases: { type: 'string', default: 'saturation,rates,read' },
    'saturation-sec': { type: 'string', default: '15' },
    'rate-sec': { type: 'string', default: '20' },
    rates: { type: 'string', default: '1000,2500' },
    'warmup-sec': { type: 'string', default: '3' },
    'read-records': { type: 'string', default: '1000000' },
    'stack-dir': { type: 'string', default: config.stackDir },
    election: { type: 'string', default: 'sample' },
    out: { type: 'string', default: join(repoRoot, 'docs', 'reports', 'kafka-clients.json') },
    summarise: { type: 'string' },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${text}`);
  return n;
};
const options = Object.freeze({
  rounds: positive('rounds', args.rounds),
  phases: new Set(args.phases.split(',')),
  saturationSec: positive('saturation-sec', args['saturation-sec']),
  rateSec: positive('rate-sec', args['rate-sec']),
  rates: args.rates.split(',').map((r) => positive('rates', r)),
  warmupSec: positive('warmup-sec', args['warmup-sec']),
  readRecords: positive('read-records', args['read-records']),
  stackDir: args['stack-dir'],
  election: args.election,
  out: args.out,
  brokers: config.kafka.brokers,
  lingerMs: config.ingest.produceLingerMs,
  maxBatch: config.ingest.produceMaxBatch,
  timeoutMs: config.ingest.produceTimeoutMs,
});

const phases: Phase[] = [];
if (options.phases.has('saturation'))
  phases.push({ id: 'saturation', rate: null, durationSec: options.saturationSec });
if (options.phases.has('rates')) {
  for (const rate of options.rates) phases.push({ id: `rate-${rate}`, rate, durationSec: options.rateSec });
}

const CLIENT_CPU = `producer CPU − ${HARNESS} CPU in the same phase and round`;
const STATISTIC =
  'median over rounds of each per-round figure; ratio = median over rounds of (value ÷ baseline in the same round); ' +
  'ratioOfMedians = median ÷ baseline median';

/** Round r runs the list forward when r is even, reversed when odd. */
const inOrder = <T>(list: readonly T[], round: number): T[] =>
  round % 2 === 0 ? [...list] : [...list].reverse();

const runs: Run[] = [];
/** Runs during which someone restarted the shared stack: reported, not counted. */
const discarded: Run[] = [];
/** Waits (≤ 3 min) for every broker's pid file to name a live process and for the topic to answer. */
async function waitForStack(): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (brokerPids(options.stackDir).length < options.brokers.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
  }
  await waitForBenchTopic(options.brokers, Math.max(10_000, deadline - Date.now()));
}

/**
 * Leaders back on their preferred replicas before a run, waiting (≤ 60 s) for
 * a restarted broker to catch up; a run that still starts skewed says so in
 * its `leaders`.
 */
async function settledLeaders(): Promise<LeaderSpread> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const spread = await preferLeaders(options.brokers, options.stackDir);
    if (spread.notPreferred === 0 || Date.now() > deadline) return spread;
    await new Promise((r) => setTimeout(r, 5000));
  }
}

/** A run the stack was restarted under is repeated (twice at most) once the brokers are back. */
async function record(spec: Omit<Parameters<typeof measureRun>[0], 'leaders'>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const leaders = await settledLeaders();
    const run = await measureRun({ ...spec, leaders });
    process.stdout.write(`${describeRun(run)}\n`);
    if (!run.brokersRestarted || attempt === 2) {
      runs.push(run);
      return;
    }
    discarded.push(run);
    await waitForStack();
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const takenAt = new Date().toISOString();
  const topicState = await ensureBenchTopic(options.brokers);
  const ballots = prepareBallots(20_000, options.election);
  process.stdout.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n` +
      `topic ${BENCH_TOPIC}: ${topicState}; broker pid files: ${join(options.stackDir, 'run')}\n`,
  );
  const connection = { brokers: options.brokers, topic: BENCH_TOPIC, brokerPids: [] };

  for (let round = 0; round < options.rounds; round++) {
    for (const phase of phases) {
      for (const [position, c] of inOrder(CONFIGURATIONS, round).entries()) {
        const job: Job = {
          kind: 'produce',
          ...connection,
          client: c.client,
          idempotent: c.idempotent,
          rate: phase.rate,
          warmupSec: options.warmupSec,
          durationSec: phase.durationSec,
          lingerMs: options.lingerMs,
          maxBatch: options.maxBatch,
          timeoutMs: options.timeoutMs,
          election: options.election,
        };
        const limitSec = options.warmupSec + phase.durationSec + 120;
        await record({
          phase: phase.id,
          configuration: c.id,
          round,
          position,
          stackDir: options.stackDir,
          brokerCount: options.brokers.length,
          job,
          limitSec,
        });
      }
    }
  }

  let readRecords = 0;
  if (options.phases.has('read')) {
    await truncateBenchTopic(options.brokers);
    await seedBenchTopic(options.brokers, ballots, options.readRecords);
    const ranges = await topicRanges(options.brokers);
    readRecords = rangeRecords(ranges);
    process.stdout.write(`read phase: ${readRecords} records in ${ranges.length} partitions\n`);
    const timeoutSec = 60 + Math.ceil(readRecords / 2000);
    for (let round = 0; round < options.rounds; round++) {
      for (const [position, reader] of inOrder(READERS, round).entries()) {
        const job: Job = { kind: 'read', ...connection, reader, ranges, timeoutSec };
        await record({
          phase: 'read',
          configuration: reader,
          round,
          position,
          stackDir: options.stackDir,
          brokerCount: options.brokers.length,
          job,
          limitSec: timeoutSec + 30,
        });
      }
    }
  }
  // What the benchmark wrote goes (DeleteRecords); retention and 16 MiB segments free the disk.
  await truncateBenchTopic(options.brokers);

  const summaries = summariseRuns(runs, phases, options.rounds, readRecords);
  const loadAfter = loadavg();
  process.stdout.write(
    `\n${summaries.text}\nload ${loadBefore[0]!.toFixed(2)} → ${loadAfter[0]!.toFixed(2)}\n`,
  );

  const version = (name: string): string =>
    JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')).version;
  const report = {
    takenAt,
    finishedAt: new Date().toISOString(),
    node: process.version,
    clients: { kafkajs: version('kafkajs'), '@platformatic/kafka': version('@platformatic/kafka') },
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? null,
      // Other work on the box skews every figure: the 1/5/15-min load averages here and per run in `runs`.
      loadAverage: { before: loadBefore, after: loadAfter },
    },
    stack: { brokers: options.brokers, topic: BENCH_TOPIC, topicState, partitions: BENCH_PARTITIONS },
    workload: {
      election: options.election,
      valueBytes: valueBytes(ballots),
      acks: -1,
      lingerMs: options.lingerMs,
      maxBatch: options.maxBatch,
      produceTimeoutMs: options.timeoutMs,
      sendsInFlight: 1,
      shuffledBatches: true,
    },
    method: {
      rounds: options.rounds,
      order: 'alternating: even rounds forward, odd rounds reversed',
      process: 'one forked child per run; CPU = process.cpuUsage() over the measured window',
      clientCpu: CLIENT_CPU,
      brokerNetCpu: "brokers' CPU in the window − their idle rate sampled 3 s before the run × window",
      warmupSec: options.warmupSec,
      saturationSec: options.saturationSec,
      rateSec: options.rateSec,
      rates: options.rates,
      readRecords,
      baseline: BASELINE,
      readBaseline: READ_BASELINE,
      statistic: STATISTIC,
    },
    produce: summaries.produce,
    read: summaries.read,
    runs,
    discarded,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`report: ${options.out}\n`);
}

/** `--summarise <report.json>`: the summaries and tables recomputed from a report's recorded runs. */
function resummarise(path: string): void {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const m = report.method;
  const recorded: Phase[] = [...new Set<string>(report.runs.map((r: Run) => r.phase))]
    .filter((id) => id !== 'read')
    .map((id) =>
      id === 'saturation'
        ? { id, rate: null, durationSec: m.saturationSec }
        : { id, rate: Number(id.slice('rate-'.length)), durationSec: m.rateSec },
    );
  const summaries = summariseRuns(report.runs, recorded, m.rounds, m.readRecords);
  process.stdout.write(`${summaries.text}\n`);
  const method = {
    ...m,
    clientCpu: report.method.clientCpu,
    statistic: STATISTIC,
    resummarisedAt: new Date().toISOString(),
  };
  const out = { ...report, method, produce: summaries.produce, read: summaries.read };
  writeFileSync(options.out, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`report: ${options.out}\n`);
}

if (args.summarise === undefined) await main();
else resummarise(args.summarise);
