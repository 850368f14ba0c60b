/**
 * `npm run bench -- ledger-rebuild [--roll 800000] [--ballots 400000] [--issued 400000]`:
 * how long ingest needs to rebuild its Redis index from Kafka after Redis
 * lost everything (DESIGN §4) — the cost of running Redis without persistence.
 *
 *   fresh election (the sample's 20 regions, a synthetic roll of --roll members)
 *   ─► --issued issuance and --ballots ballot records produced to Kafka
 *   ─► a LedgerHost builds its index (the first start of an election)
 *   ─► FLUSHALL ─► the host notices, restores the roll, replays the log ─► every region complete
 *
 * Writes docs/reports/ledger-rebuild.json. FLUSHALL empties the whole local
 * Redis: other elections' ingest processes rebuild theirs by themselves.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { Redis } from 'ioredis';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { type BallotRecord, type IssuanceRecord, minuteBucket, RECORD_VERSION } from '../common/records.js';
import { ballotEntry, issuanceEntry } from '../ingest/ledger/entries.js';
import { LedgerHost } from '../ingest/ledger/ledger-host.js';
import { prepareRunElection } from '../loadtest/run-election.js';

const { values } = parseArgs({
  allowPositionals: true,
  options: {
    roll: { type: 'string', default: '800000' },
    ballots: { type: 'string', default: '400000' },
    issued: { type: 'string', default: '400000' },
  },
});
const rollSize = Number(values.roll);
const ballots = Number(values.ballots);
const issued = Number(values.issued);
const say = (line: string): void => void process.stderr.write(`[ledger-rebuild] ${line}\n`);
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
const loadBefore = load();

const runId = `rebuild-${Date.now().toString(36)}`;
say(`preparing ${runId}: roll of ${rollSize}`);
const run = await prepareRunElection(runId, 'sample', rollSize, say);
const config = loadConfig({ ...process.env, STACK_DIR: run.stackDir, ELECTION: run.path, LOG_LEVEL: 'warn' });
const log = createLogger('ledger-rebuild', 'warn');

// Records shaped as ingest writes them, spread over the election's districts.
const districts = run.index.config.districts;
const bucket = minuteBucket(Date.now());
const base32 = (bytes: Buffer): string =>
  bytes.toString('base64url').replace(/[-_]/g, 'A').toUpperCase().slice(0, 26);
const producer = new Producer({
  clientId: 'ledger-rebuild-bench',
  bootstrapBrokers: [...config.kafka.brokers],
  acks: ProduceAcks.ALL,
});
let produced = 0;
const started = performance.now();
for (let i = 0; i < Math.max(ballots, issued); i += 5_000) {
  const messages = [];
  for (let j = i; j < Math.min(i + 5_000, Math.max(ballots, issued)); j++) {
    const district = districts[j % districts.length]!;
    const partitions = run.index.partitionsFor(district.region);
    if (j < issued) {
      const record: IssuanceRecord = {
        v: RECORD_VERSION,
        election: runId,
        region: district.region,
        district: district.id,
        voterHash: randomBytes(32).toString('hex'),
        blindedHash: randomBytes(32).toString('hex'),
        channel: 'online',
        bucket,
      };
      const e = issuanceEntry(record, partitions);
      messages.push({ topic: e.topic, partition: e.partition, value: Buffer.from(e.value) });
    }
    if (j < ballots) {
      const race = run.index.racesOf(district.id)[0]!;
      const record: BallotRecord = {
        v: RECORD_VERSION,
        election: runId,
        region: district.region,
        district: district.id,
        ballotId: base32(randomBytes(20)),
        ballotHash: randomBytes(32).toString('hex'),
        rev: 0,
        bucket,
        selections: [[race.id, race.candidates[0]!.id]],
      };
      const e = ballotEntry(record, partitions);
      messages.push({ topic: e.topic, partition: e.partition, value: Buffer.from(e.value) });
    }
  }
  await producer.send({ messages });
  produced += messages.length;
}
await producer.close();
say(`produced ${produced} records in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const host = new LedgerHost({ config, election: run.index, keys: run.keys, log });
const complete = async (): Promise<number> => {
  const t = performance.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    if (host.state.rebuilding.length === 0 && performance.now() - t > 700)
      return (performance.now() - t) / 1000;
  }
};
let t = performance.now();
await host.start();
await complete();
const firstBuild = (performance.now() - t) / 1000;
say(`first build (election's first start): ${firstBuild.toFixed(1)} s`);

const redis = new Redis({ host: config.redis.host, port: config.redis.port });
t = performance.now();
await redis.flushall();
// The follower checks every 500 ms; then restores the roll and replays the log.
for (;;) {
  await new Promise((r) => setTimeout(r, 50));
  if (host.state.rebuilding.length > 0) break;
}
const noticed = (performance.now() - t) / 1000;
for (;;) {
  await new Promise((r) => setTimeout(r, 50));
  if (host.state.rebuilding.length === 0) break;
}
const rebuild = (performance.now() - t) / 1000;
const keys = await redis.dbsize();
await redis.quit();
await host.close();
say(`after FLUSHALL: noticed in ${noticed.toFixed(1)} s, complete in ${rebuild.toFixed(1)} s (${keys} keys)`);

const report = {
  bench: 'ledger-rebuild',
  date: new Date().toISOString(),
  node: process.version,
  rollMembers: rollSize,
  issuanceRecords: issued,
  ballotRecords: ballots,
  redisKeysAfter: keys,
  seconds: { firstBuild, flushNoticed: noticed, rebuildAfterFlush: rebuild },
  recordsPerSecond: Math.round((issued + ballots) / rebuild),
  loadAverage: { before: loadBefore, after: load() },
};
writeFileSync(
  join(repoRoot, 'docs', 'reports', 'ledger-rebuild.json'),
  `${JSON.stringify(report, null, 2)}\n`,
);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
