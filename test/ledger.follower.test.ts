/**
 * The ledger follower (ingest/ledger/follower.ts) on the real stack, driven
 * directly: its own election id (records of other runs in the shared topics
 * are not its), a real LogReader, IndexStore and Redis. A region's data loss
 * is its keys deleted (what a lost Redis node does to the slot it held).
 *
 * - a rebuild whose roll restore fails is retried: the region is not
 *   declared complete before it was replayed (it used to be: empty targets);
 * - Redis losing the region again during the replay starts the rebuild over
 *   (it used to set the marker over an index missing the replayed records);
 * - APPLY writes nothing in a region without its marker unless for a rebuild
 *   listed in Redis (a reader not yet rewound left marks from mid-log);
 * - a log-start outside the log is reported, and the region is not rebuilt
 *   from what is left (it used to stop the reader, silently).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchHandler, LogReader, partitionKey } from '../common/kafka/log-reader.js';
import { repoRoot } from '../common/paths.js';
import { TOPICS } from '../common/records.js';
import { type ElectionIndex, indexElection } from '../election/index.js';
import { credKey, indexMarkerKey } from '../ingest/ledger/entries.js';
import { LEDGER_TOPICS, LedgerFollower } from '../ingest/ledger/follower.js';
import { IndexStore } from '../ingest/ledger/index-store.js';
import { config, kafkaClient } from './support/stack.js';

const log = pino({ level: 'silent' });
const kafka = kafkaClient('ledger-follower-test');
const redis = new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: true });
let producer: Producer;
const elections: string[] = [];

/** A reader whose batches a test may act on before the follower gets them. */
class ProbeReader extends LogReader {
  before: ((batch: Parameters<BatchHandler>[0]) => Promise<void>) | null = null;
  override start(handler: BatchHandler): void {
    super.start(async (batch) => {
      await this.before?.(batch);
      await handler(batch);
    });
  }
}

function electionOf(id: string): ElectionIndex {
  elections.push(id);
  const sample = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'sample.json'), 'utf8'));
  return indexElection({ ...sample, id, opens: '2020-01-01T00:00:00Z', closes: '2099-12-31T23:59:59Z' });
}

interface Running {
  readonly follower: LedgerFollower;
  readonly reader: ProbeReader;
  readonly index: IndexStore;
  restores: number;
  failRestores: number;
  /** What a roll restore does (besides counting): nothing unless a test says. */
  restore: () => Promise<void>;
  rebuilt: string[];
}

async function startFollower(
  election: ElectionIndex,
  logStartOverride: (start: Map<string, number>) => void = () => undefined,
): Promise<Running> {
  const reader = new ProbeReader({
    brokers: config.kafka.brokers,
    clientId: 'ledger-follower-test',
    log,
    maxWaitMs: 200,
    // Small answers: a replay takes many batches, so a test can act between them.
    maxBytesPerPartition: 1_024,
  });
  const index = new IndexStore(redis, {
    election: election.id,
    pendingTtlMs: 60_000,
    busyMs: 5_000,
    timer: () => undefined,
  });
  const logStart = await reader.endOffsets(LEDGER_TOPICS);
  logStartOverride(logStart);
  const running: Running = {
    follower: null as unknown as LedgerFollower,
    reader,
    index,
    restores: 0,
    failRestores: 0,
    restore: async () => undefined,
    rebuilt: [],
  };
  const follower = new LedgerFollower({
    reader,
    index,
    election,
    logStart,
    restoreRoll: async () => {
      running.restores++;
      if (running.failRestores > 0) {
        running.failRestores--;
        throw new Error('roll store unreachable (test)');
      }
      await running.restore();
    },
    log,
    onRebuilt: (region) => running.rebuilt.push(region),
  });
  (running as { follower: LedgerFollower }).follower = follower;
  await follower.start();
  return running;
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ballots of `election` for the region on partition `partition`, one send of five at a time. */
async function castBallots(election: ElectionIndex, region: string, partition: number, count: number) {
  const district = election.config.districts.find((d) => d.region === region)!.id;
  const keys: [key: string, value: string][] = [];
  for (let sent = 0; sent < count; sent += 5) {
    const messages = [];
    for (let i = sent; i < Math.min(count, sent + 5); i++) {
      const ballotId = `B${i.toString().padStart(25, '0')}`;
      const ballotHash = randomUUID().replaceAll('-', '');
      const record = {
        v: 1,
        election: election.id,
        region,
        district,
        ballotId,
        ballotHash,
        rev: 0,
        bucket: 0,
        selections: [],
      };
      messages.push({ partition, value: JSON.stringify(record) });
      keys.push([credKey(region, election.id, ballotId), `cast:${ballotHash}`]);
    }
    await producer.send({ topic: TOPICS.ballots, acks: -1, messages });
  }
  return keys;
}

/** What a lost Redis node does to a region: every key of its slot gone. */
async function loseRegion(region: string, election: string): Promise<void> {
  const keys = await redis.keys(`*{${region}}:${election}*`);
  if (keys.length > 0) await redis.del(...keys);
}

async function holds(keys: readonly [string, string][]): Promise<number> {
  const values = await Promise.all(keys.map(([key]) => redis.get(key)));
  return values.filter((v, i) => v === keys[i]![1]).length;
}

beforeAll(async () => {
  await redis.connect();
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  for (const id of elections) {
    const keys = await redis.keys(`*${id}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
});

describe('ledger follower', () => {
  it('retries a rebuild whose roll restore failed, and completes the region only once replayed', async () => {
    const election = electionOf(`follower-a1-${Date.now().toString(36)}`);
    const region = election.config.regions[0]!.code;
    const partition = election.partitionsFor(region)[0]!;
    const run = await startFollower(election);
    try {
      await until('every region built at start', () => run.follower.rebuilding.length === 0);
      const keys = await castBallots(election, region, partition, 40);
      await until('every ballot applied', async () => (await holds(keys)) === keys.length);

      run.failRestores = 1;
      const restoresBefore = run.restores;
      await loseRegion(region, election.id);
      await until('the region rebuilt', () => run.rebuilt.includes(region));
      expect(await holds(keys)).toBe(keys.length);
      expect(run.restores).toBeGreaterThanOrEqual(restoresBefore + 2);
      expect(await redis.exists(indexMarkerKey(region, election.id))).toBe(1);
      expect(run.follower.problem).toBeNull();
    } finally {
      await run.follower.close();
    }
  });

  it('starts the rebuild over when Redis loses the region again during the replay', async () => {
    const election = electionOf(`follower-a2-${Date.now().toString(36)}`);
    const region = election.config.regions[1]!.code;
    const partition = election.partitionsFor(region)[0]!;
    const run = await startFollower(election);
    try {
      await until('every region built at start', () => run.follower.rebuilding.length === 0);
      const keys = await castBallots(election, region, partition, 200);
      await until('every ballot applied', async () => (await holds(keys)) === keys.length);
      const tail = run.reader.position(TOPICS.ballots, partition)!;

      // The second replayed batch: the first one's records are in Redis again; lose them.
      let replayed = 0;
      let lostAgain = false;
      run.reader.before = async (batch) => {
        if (batch.topic !== TOPICS.ballots || batch.partition !== partition) return;
        if (batch.records[0]!.offset >= tail || ++replayed !== 2) return;
        expect(await holds(keys)).toBeGreaterThan(0);
        await loseRegion(region, election.id);
        lostAgain = true;
      };
      await loseRegion(region, election.id);
      await until('the region rebuilt', () => run.rebuilt.includes(region));
      expect(lostAgain).toBe(true);
      expect(await holds(keys)).toBe(keys.length);
      expect(run.follower.rebuilding).toEqual([]);
    } finally {
      await run.follower.close();
    }
  });

  it('never marks a region complete without its roll, even when Redis loses it again right after the restore', async () => {
    const election = electionOf(`follower-a5-${Date.now().toString(36)}`);
    const region = election.config.regions[0]!.code;
    const partition = election.partitionsFor(region)[0]!;
    const rollMark = `roll:{${region}}:${election.id}`;
    const run = await startFollower(election);
    try {
      await until('every region built at start', () => run.follower.rebuilding.length === 0);
      const keys = await castBallots(election, region, partition, 40);
      await until('every ballot applied', async () => (await holds(keys)) === keys.length);
      // The roll "restore" writes a mark in the region's slot; the first one after the loss is
      // followed at once by another loss (Redis restarted empty again), before the rebuild is listed.
      let lossesAfterRestore = 1;
      run.restore = async () => {
        await redis.set(rollMark, 'restored');
        if (lossesAfterRestore-- > 0) await loseRegion(region, election.id);
      };
      await loseRegion(region, election.id);
      await until('the region rebuilt', () => run.rebuilt.includes(region));
      expect(lossesAfterRestore).toBeLessThan(0);
      expect(await redis.exists(indexMarkerKey(region, election.id))).toBe(1);
      expect(await redis.get(rollMark)).toBe('restored');
      expect(await holds(keys)).toBe(keys.length);
    } finally {
      await run.follower.close();
    }
  });

  it('APPLY writes nothing where the marker is missing, unless for a rebuild listed in Redis', async () => {
    const election = electionOf(`follower-a3-${Date.now().toString(36)}`);
    const region = election.config.regions[2]!.code;
    const index = new IndexStore(redis, {
      election: election.id,
      pendingTtlMs: 60_000,
      busyMs: 5_000,
      timer: () => undefined,
    });
    const key = credKey(region, election.id, 'B1');
    const record = { region, key, hash: 'h1', done: 'cast' as const };

    expect(await index.apply([record], () => '')).toEqual([null]);
    expect(await index.apply([record], () => 'not-listed')).toEqual([null]);
    expect(await redis.get(key)).toBeNull();

    expect(await index.beginRebuild(region, 'r1')).toBe(true);
    expect(await index.apply([record], () => 'r1')).toEqual([null]);
    expect(await redis.get(key)).toBe('cast:h1');
    expect(await index.rebuildState(region, 'r1')).toBe('running');
    expect(await index.finishRebuild(region, 'r1')).toBe('complete');
    expect(await index.apply([record], () => '')).toEqual(['same']);

    // Lost again before the rebuild finished: it cannot set the marker.
    await loseRegion(region, election.id);
    expect(await index.beginRebuild(region, 'r2')).toBe(true);
    await loseRegion(region, election.id);
    expect(await index.apply([record], () => 'r2')).toEqual([null]);
    expect(await redis.get(key)).toBeNull();
    expect(await index.finishRebuild(region, 'r2')).toBe('lost');
    expect(await redis.exists(indexMarkerKey(region, election.id))).toBe(0);
  });

  it('reports a log-start outside the log and does not rebuild the region from what is left', async () => {
    const election = electionOf(`follower-c2-${Date.now().toString(36)}`);
    const region = election.config.regions[3]!.code;
    const tp = partitionKey(TOPICS.ballots, election.partitionsFor(region)[0]!);
    const run = await startFollower(election, (start) => start.set(tp, (start.get(tp) ?? 0) + 1_000_000));
    try {
      await until('the other regions built', () => run.follower.rebuilding.length === 1);
      expect(run.follower.rebuilding).toEqual([region]);
      expect(run.follower.problem).toMatch(new RegExp(`^log-start outside the log: ${tp} from `));
      expect(await redis.exists(indexMarkerKey(region, election.id))).toBe(0);
    } finally {
      await run.follower.close();
    }
  });
});
