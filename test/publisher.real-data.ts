/**
 * Real results for the publisher tests: ballots, credential issuance and a
 * paper protocol produced to the real Kafka topics for a fresh test election
 * (a copy of the sample config under a new id), then awaited in the real
 * ClickHouse through aggregator/'s own queries. Nothing here is faked: the
 * snapshot is built from what ClickHouse counted.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { ClickHouse } from '../aggregator/client.js';
import { electionEvents, paperProtocols, codes as storedCodes } from '../aggregator/queries.js';
import type { ElectionEventRecord } from '../aggregator/records.js';
import { createLogger } from '../common/log.js';
import {
  type BallotRecord,
  castBucket,
  type IssuanceRecord,
  minuteBucket,
  paperCheckInHash,
  paperProtocol,
  RECORD_VERSION,
  TOPICS,
} from '../common/records.js';
import { type ElectionIndex, indexElection, loadElection } from '../election/index.js';
import { keysDir } from '../election/keys.js';
import { recordLogStart } from '../election/log-start.js';
import { signProtocol } from '../ingest/paper/protocol.js';
import { ClickHouseSource } from '../publisher/clickhouse-source.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { rollSourceFor } from '../publisher/roll-source.js';
import { SnapshotScheduler } from '../publisher/scheduler.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';
import { fakeDistrictKeys, fixtureStationKey, fixtureStations } from './publisher.fixtures.js';
import { config, kafkaClient } from './support/stack.js';

/** A copy of the sample election under a fresh id, so runs never see each other's ballots. */
export function testElection(prefix: string): ElectionIndex {
  const sample = loadElection('sample');
  const id = `${prefix}-${randomBytes(4).toString('hex')}`;
  return indexElection({ ...structuredClone(sample.config), id });
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function ballotId(seed: string): string {
  const d = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < 26; i++) out += BASE32[d[i]! & 31];
  return out;
}

export interface Produced {
  readonly codes: readonly string[];
  /** race → candidate → online votes */
  readonly online: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly paperBallots: number;
  readonly paperPrecinct: string;
  /** district → what was produced there: credentials issued online, paper check-ins, ballots, paper ballots */
  readonly districts: ReadonlyMap<string, DistrictProduced>;
}

export interface DistrictProduced {
  issuedOnline: number;
  issuedPaper: number;
  castOnline: number;
  castPaper: number;
}

/** Districts the test ballots go to: the first of a few regions, including one with a removed candidate. */
export const TEST_DISTRICTS = ['D-10-1', 'D-35-1', 'D-75-1', 'D-11-1'];

/**
 * Produces `ballots` online ballots (each with its credential issuance, plus
 * some credentials never used) and one precinct protocol with its paper
 * check-ins; each ballot is produced twice, as a retry would, to prove
 * duplicates do not count. `badRegion` adds one ballot from a region the
 * election does not have, which reconciliation must refuse; `conflict` adds,
 * after all the others, a second ballot with other choices under the first
 * ballot's id (a conflict: it must never count, nor stop publishing).
 */
export async function produceResults(
  index: ElectionIndex,
  ballots: number,
  options: {
    badRegion?: boolean;
    conflict?: boolean;
    removeCandidate?: { race: string; candidate: string };
  } = {},
): Promise<Produced> {
  const kafka = kafkaClient('saylau-publisher-test');
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const bucket = minuteBucket(Date.now());
  const castAt = castBucket(Date.now(), index.castBucketSec);
  const online = new Map<string, Map<string, number>>();
  const codes: string[] = [];
  const ballotMessages: { value: string; partition: number }[] = [];
  const issuanceMessages: { value: string; partition: number }[] = [];
  const partition = (region: string) => index.partitionsFor(region)[0] ?? 0;
  const districts = new Map<string, DistrictProduced>();
  const inDistrict = (id: string): DistrictProduced => {
    const d = districts.get(id) ?? { issuedOnline: 0, issuedPaper: 0, castOnline: 0, castPaper: 0 };
    districts.set(id, d);
    return d;
  };
  const issue = (district: string, channel: 'online' | 'paper', n: string, precinct?: string) => {
    const d = index.district(district)!;
    if (channel === 'online') inDistrict(district).issuedOnline += 1;
    else inDistrict(district).issuedPaper += 1;
    const record: IssuanceRecord = {
      v: RECORD_VERSION,
      election: index.id,
      region: d.region,
      district,
      voterHash: createHash('sha256').update(`${index.id}/${channel}/${n}`).digest('hex'),
      blindedHash:
        precinct === undefined
          ? createHash('sha256').update(`${index.id}/${channel}/${n}/blinded`).digest('hex')
          : paperCheckInHash(precinct),
      channel,
      bucket,
      ...(precinct === undefined ? {} : { precinct }),
    };
    issuanceMessages.push({ value: JSON.stringify(record), partition: partition(d.region) });
  };
  for (let i = 0; i < ballots; i++) {
    const district = index.district(TEST_DISTRICTS[i % TEST_DISTRICTS.length]!)!;
    const selections = index.racesOf(district.id).map((race) => {
      const pick = race.candidates[(i * 3 + race.id.length) % race.candidates.length]!;
      const perRace = online.get(race.id) ?? new Map<string, number>();
      perRace.set(pick.id, (perRace.get(pick.id) ?? 0) + 1);
      online.set(race.id, perRace);
      return [race.id, pick.id] as [string, string];
    });
    const id = ballotId(`${index.id}/${i}`);
    codes.push(id);
    inDistrict(district.id).castOnline += 1;
    const record: BallotRecord = {
      v: RECORD_VERSION,
      election: index.id,
      region: district.region,
      district: district.id,
      ballotId: id,
      ballotHash: createHash('sha256').update(JSON.stringify(selections)).digest('hex'),
      rev: 0,
      bucket: castAt,
      selections,
    };
    const message = { value: JSON.stringify(record), partition: partition(district.region) };
    ballotMessages.push(message, message);
    issue(district.id, 'online', String(i));
    if (i % 4 === 0) issue(district.id, 'online', `unused-${i}`);
  }
  if (options.badRegion === true) {
    const record = {
      ...JSON.parse(ballotMessages[0]!.value),
      region: 'KZ-99',
      ballotId: ballotId(`${index.id}/bad`),
    };
    ballotMessages.push({ value: JSON.stringify(record), partition: 0 });
  }
  if (options.conflict === true) {
    const first = JSON.parse(ballotMessages[0]!.value) as BallotRecord;
    const race = index.race(first.selections[0]![0])!;
    const other = race.candidates.find((c) => c.id !== first.selections[0]![1])!;
    const selections = [[race.id, other.id], ...first.selections.slice(1)];
    const record = {
      ...first,
      selections,
      ballotHash: createHash('sha256').update(JSON.stringify(selections)).digest('hex'),
    };
    ballotMessages.push({ value: JSON.stringify(record), partition: ballotMessages[0]!.partition });
  }
  const precinct = index.config.paperPrecincts.find((p) => p.district === TEST_DISTRICTS[0])!;
  const pd = index.district(precinct.district)!;
  for (let i = 0; i < 9; i++) issue(pd.id, 'paper', `p${i}`, precinct.id);
  inDistrict(pd.id).castPaper += 7;
  const { keyId: _keyId, ...unsigned } = paperProtocol({
    election: index.id,
    region: pd.region,
    district: pd.id,
    precinct: precinct.id,
    version: 1,
    issued: 7,
    spoiled: 1,
    results: index
      .racesOf(pd.id)
      .flatMap((race) =>
        race.candidates.map((c, i) => ({ race: race.id, candidate: c.id, votes: i === 0 ? 6 : 0 })),
      ),
    keyId: '',
  });
  const protocol = {
    ...signProtocol(unsigned, fixtureStationKey(index, precinct.id)),
    submittedBy: precinct.officials[0]!.id,
    at: Date.now(),
  };
  try {
    await producer.send({ topic: TOPICS.issuance, acks: -1, messages: issuanceMessages });
    await producer.send({ topic: TOPICS.ballots, acks: -1, messages: ballotMessages });
    if (options.removeCandidate !== undefined) {
      const event: ElectionEventRecord = {
        v: RECORD_VERSION,
        id: `${index.id}-remove`,
        election: index.id,
        type: 'candidate-removed',
        at: Date.now(),
        by: 'OP-1',
        ...options.removeCandidate,
        detail: 'publisher test',
        reference: 'publisher-test',
        signature: '',
      };
      await producer.send({
        topic: TOPICS.electionEvents,
        acks: -1,
        messages: [{ value: JSON.stringify(event), partition: 0 }],
      });
    }
    await producer.send({
      topic: TOPICS.paper,
      acks: -1,
      messages: [{ value: JSON.stringify(protocol), partition: partition(pd.region) }],
    });
  } finally {
    await producer.disconnect();
  }
  return { codes: codes.sort(), online, paperBallots: 7, paperPrecinct: precinct.id, districts };
}

/** Waits until ClickHouse has every code and the protocol (the Kafka engine flushes in blocks). */
export async function awaitInClickHouse(
  index: ElectionIndex,
  expectedCodes: number,
  events = 0,
  timeoutMs = 90_000,
) {
  const ch = new ClickHouse(config);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [c, p, e] = await Promise.all([
        storedCodes(ch, index.id),
        paperProtocols(ch, index.id),
        electionEvents(ch, index.id),
      ]);
      if (c.length >= expectedCodes && p.length >= 1 && e.length >= events) return;
      if (Date.now() > deadline)
        throw new Error(`ClickHouse has ${c.length}/${expectedCodes} codes after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await ch.close();
  }
}

const logger = createLogger('publisher-test', 'warn');
const noRedis = () => {
  throw new Error('the sample roll needs no Redis');
};
const dirs: string[] = [];
const sources: ClickHouseSource[] = [];

/** A publisher for a fresh test election over the real ClickHouse, writing to a temp dir. */
export async function realPublisher(prefix: string, options: { retryMs?: number } = {}) {
  const index = testElection(prefix);
  // Where the election's records begin, as `election init` records it: reconcile reads from there.
  await mkdir(keysDir(config.stackDir, index.id), { recursive: true });
  await recordLogStart(config, index.id);
  const dir = await mkdtemp(join(tmpdir(), `saylau-${prefix}-`));
  dirs.push(dir);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
  const store = new SnapshotStore(dir);
  await store.open();
  const source = new ClickHouseSource(config, logger, index, 90_000);
  sources.push(source);
  const metrics = new PublisherMetrics();
  const roll = rollSourceFor(index, noRedis);
  const districtKeys = fakeDistrictKeys(index);
  const stations = fixtureStations(index);
  const scheduler = new SnapshotScheduler({
    index,
    source,
    roll,
    store,
    privateKey,
    districtKeys,
    stations,
    metrics,
    logger,
    intervalMs: 60_000,
    settleTimeoutMs: 90_000,
    ...options,
  });
  return {
    index,
    dir,
    spki,
    privateKey,
    districtKeys,
    stations,
    store,
    metrics,
    scheduler,
    source,
    roll,
    logger,
  };
}

export async function closeRealPublishers(): Promise<void> {
  await Promise.allSettled(sources.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}
