/**
 * Baselines measured in the same run, so results read as ratios:
 *
 * - uWS hello world (`bench/hello-uws.ts`, one process): req/s with autocannon,
 *   closed model, 64 connections — the transport's ceiling on this machine.
 * - Redis: `redis-benchmark` (Debian redis-tools), SET, 50 clients, in db 15
 *   (emptied of its one benchmark key afterwards) so saylau's keys are untouched.
 * - Kafka: `kafka-producer-perf-test` (org.apache.kafka.tools.ProducerPerformance
 *   from .stack/kafka/libs), acks=all, idempotent, 400-byte records (about a
 *   ballot record) to its own topic `loadtest-perf` (RF 3, min ISR 2).
 *
 * A baseline that cannot run is reported as `null` with the reason, never guessed.
 */
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../common/config.js';
import { repoRoot } from '../common/paths.js';

const run = promisify(execFile);

interface AutocannonResult {
  readonly requests: { readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly p90: number };
  readonly duration: number;
  readonly errors: number;
  readonly non2xx: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface Baselines {
  helloWorld: {
    reqPerSec: number;
    p50Ms: number;
    p99Ms: number;
    connections: number;
    durationSec: number;
  } | null;
  redisSet: { opsPerSec: number; p50Ms: number | null; p99Ms: number | null; requests: number } | null;
  /** Kafka at a low fixed rate: the latency floor of one acks=all produce on this machine. */
  kafkaLatency: {
    recordsPerSec: number;
    mbPerSec: number;
    p50Ms: number;
    p99Ms: number;
    records: number;
  } | null;
  kafkaProducer: {
    recordsPerSec: number;
    mbPerSec: number;
    p50Ms: number;
    p99Ms: number;
    records: number;
  } | null;
  problems: string[];
}

export interface BaselineSizes {
  readonly helloSec: number;
  readonly redisRequests: number;
  readonly kafkaRecords: number;
  /** Records for the fixed-rate (200/s) latency run. @default 1000 */
  readonly kafkaLatencyRecords?: number;
}

export async function measureBaselines(
  config: Config,
  port: number,
  sizes: BaselineSizes,
  log: (line: string) => void,
): Promise<Baselines> {
  const out: Baselines = {
    helloWorld: null,
    redisSet: null,
    kafkaLatency: null,
    kafkaProducer: null,
    problems: [],
  };
  try {
    out.helloWorld = await helloWorld(port, sizes.helloSec);
    log(`baseline uWS hello world: ${out.helloWorld.reqPerSec} req/s (p99 ${out.helloWorld.p99Ms} ms)`);
  } catch (err) {
    out.problems.push(`hello world: ${(err as Error).message}`);
  }
  try {
    out.redisSet = await redisBenchmark(config, sizes.redisRequests);
    log(`baseline redis-benchmark SET: ${out.redisSet.opsPerSec} ops/s`);
  } catch (err) {
    out.problems.push(`redis-benchmark: ${(err as Error).message}`);
  }
  try {
    out.kafkaLatency = await kafkaPerf(config, sizes.kafkaLatencyRecords ?? 1000, 200);
    log(
      `baseline kafka acks=all latency at 200 records/s: p50 ${out.kafkaLatency.p50Ms} ms, p99 ${out.kafkaLatency.p99Ms} ms`,
    );
  } catch (err) {
    out.problems.push(`kafka-producer-perf-test (latency): ${(err as Error).message}`);
  }
  try {
    out.kafkaProducer = await kafkaPerf(config, sizes.kafkaRecords, -1);
    log(`baseline kafka-producer-perf-test (acks=all): ${out.kafkaProducer.recordsPerSec} records/s`);
  } catch (err) {
    out.problems.push(`kafka-producer-perf-test: ${(err as Error).message}`);
  }
  return out;
}

async function helloWorld(port: number, durationSec: number): Promise<NonNullable<Baselines['helloWorld']>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('bench', 'hello-uws.ts'), String(port)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout?.on('data', (d) => {
        seen += d;
        if (seen.includes('listening')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`hello world exited ${code}`)));
    });
    const connections = 64;
    const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: durationSec });
    return {
      reqPerSec: Math.round(r.requests.total / r.duration),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      connections,
      durationSec,
    };
  } finally {
    child.kill('SIGTERM');
  }
}

async function redisBenchmark(config: Config, requests: number): Promise<NonNullable<Baselines['redisSet']>> {
  const { stdout } = await run(
    'redis-benchmark',
    [
      '-h',
      config.redis.host,
      '-p',
      String(config.redis.port),
      '--dbnum',
      '15',
      '-t',
      'set',
      '-n',
      String(requests),
      '-c',
      '50',
      '--csv',
    ],
    { timeout: 120_000 },
  );
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const row = stdout
    .trim()
    .split('\n')
    .find((l) => l.startsWith('"SET"'));
  if (row === undefined) throw new Error(`unexpected output: ${stdout.slice(0, 200)}`);
  const f = row.split(',').map((x) => x.replace(/"/g, ''));
  await run('redis-cli', [
    '-h',
    config.redis.host,
    '-p',
    String(config.redis.port),
    '-n',
    '15',
    'DEL',
    'key:__rand_int__',
  ]).catch(() => undefined);
  return {
    opsPerSec: Math.round(Number(f[1])),
    p50Ms: f[4] === undefined ? null : Number(f[4]),
    p99Ms: f[6] === undefined ? null : Number(f[6]),
    requests,
  };
}

const PERF_TOPIC = 'loadtest-perf';

async function kafkaPerf(
  config: Config,
  records: number,
  throughput: number,
): Promise<NonNullable<Baselines['kafkaProducer']>> {
  const kafka = new Kafka({
    clientId: 'saylau-loadtest',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(PERF_TOPIC)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: PERF_TOPIC,
            numPartitions: 3,
            replicationFactor: config.kafka.replicationFactor,
            configEntries: [
              { name: 'min.insync.replicas', value: String(config.kafka.minInsyncReplicas) },
              { name: 'retention.ms', value: String(3_600_000) },
            ],
          },
        ],
      });
    }
  } finally {
    await admin.disconnect();
  }
  const { stdout } = await run(
    'java',
    [
      '-Xmx256m',
      '-cp',
      join(config.stackDir, 'kafka', 'libs', '*'),
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      PERF_TOPIC,
      '--num-records',
      String(records),
      '--record-size',
      '400',
      '--throughput',
      String(throughput),
      '--producer-props',
      `bootstrap.servers=${config.kafka.brokers.join(',')}`,
      'acks=all',
      'enable.idempotence=true',
      'linger.ms=5',
    ],
    { timeout: 180_000, maxBuffer: 4 * 1024 * 1024 },
  );
  // "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, …"
  const last = stdout.trim().split('\n').pop() ?? '';
  const m =
    /records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).* (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(
      last,
    );
  if (m === null) throw new Error(`unexpected output: ${last.slice(0, 200)}`);
  return {
    recordsPerSec: Math.round(Number(m[1])),
    mbPerSec: Number(m[2]),
    p50Ms: Number(m[3]),
    p99Ms: Number(m[5]),
    records,
  };
}
