/**
 * Synthetic ballot records for the aggregator's tests and benchmark: valid
 * `ballots` records (common/records.ts) for a made-up election, produced
 * straight to Kafka the way ingest does (acks=all, idempotent, partition
 * chosen by region), plus the tally they must add up to.
 *
 * Deterministic from (election id, index): the same index always gives the
 * same ballotId and choices, which is what a redelivery or a client retry
 * looks like downstream.
 */
import { createHash } from 'node:crypto';
import type { Kafka, Message, Producer } from 'kafkajs';
import { ballotIdOf } from '../common/ballot-id.js';
import {
  type BallotRecord,
  castBucket,
  DEFAULT_CAST_BUCKET_SEC,
  RECORD_VERSION,
  type SelectionRow,
  TOPICS,
} from '../common/records.js';

export interface SyntheticElection {
  readonly id: string;
  readonly regions: readonly string[];
  /** Region code → its districts. */
  readonly districts: ReadonlyMap<string, readonly string[]>;
}

/** `regions` regions (`R00`…), two districts each; races: `president` (1 of 4) and `<district>-council` (1–2 of 3). */
export function syntheticElection(id: string, regions = 20): SyntheticElection {
  const codes = Array.from({ length: regions }, (_, i) => `R${String(i).padStart(2, '0')}`);
  return { id, regions: codes, districts: new Map(codes.map((r) => [r, [`${r}-D1`, `${r}-D2`]])) };
}

/** The ballotId of a synthetic credential message: the ingest rule (common/ballot-id.ts) applied to `seed`. */
export function syntheticBallotId(seed: string): string {
  return ballotIdOf(Buffer.from(seed));
}

/** Small fast PRNG (mulberry32); good enough to spread choices, and seedable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticBallot {
  readonly record: BallotRecord;
  /** The region's index in the election: the Kafka partition (modulo the topic's partition count). */
  readonly regionIndex: number;
}

export interface BallotOptions {
  /** Overrides the choices: a race → candidates map for every ballot (the benchmark's time markers). */
  readonly selections?: (index: number) => readonly SelectionRow[];
  /** @default now */
  readonly nowMs?: number;
}

export function syntheticBallot(
  election: SyntheticElection,
  index: number,
  options: BallotOptions = {},
): SyntheticBallot {
  const next = random(index * 2654435761 + election.id.length);
  const regionIndex = index % election.regions.length;
  const region = election.regions[regionIndex]!;
  const districts = election.districts.get(region)!;
  const district = districts[Math.floor(next() * districts.length)]!;
  let selections: readonly SelectionRow[];
  if (options.selections !== undefined) {
    selections = options.selections(index);
  } else {
    const council = ['c1', 'c2', 'c3'].filter(() => next() < 0.5);
    selections = [
      ['president', `p${1 + Math.floor(next() * 4)}`],
      [`${district}-council`, ...(council.length === 0 ? ['c1'] : council)],
    ];
  }
  const ballotId = syntheticBallotId(`${election.id}/${index}`);
  const record: BallotRecord = {
    v: RECORD_VERSION,
    election: election.id,
    region,
    district,
    ballotId,
    ballotHash: createHash('sha256').update(JSON.stringify(selections)).digest('hex'),
    rev: 0,
    bucket: castBucket(options.nowMs ?? Date.now(), DEFAULT_CAST_BUCKET_SEC),
    selections,
  };
  return { record, regionIndex };
}

/** Expected tally: `race|region|district|candidate` → votes, counting each ballotId once. */
export function expectedTally(ballots: Iterable<SyntheticBallot>): Map<string, number> {
  const seen = new Set<string>();
  const tally = new Map<string, number>();
  for (const { record } of ballots) {
    if (seen.has(record.ballotId)) continue;
    seen.add(record.ballotId);
    for (const [race, ...candidates] of record.selections) {
      for (const candidate of candidates) {
        const key = `${race}|${record.region}|${record.district}|${candidate}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
    }
  }
  return tally;
}

/**
 * An idempotent acks=all producer, as ingest configures it (DESIGN §4).
 * kafkajs's idempotent producer allows one send at a time (concurrent sends
 * fail with OUT_OF_ORDER_SEQUENCE_NUMBER); the benchmark, which overlaps
 * sends to hold a rate, asks for a plain acks=all producer instead.
 */
export async function connectProducer(
  kafka: Kafka,
  options: { idempotent?: boolean } = {},
): Promise<Producer> {
  const idempotent = options.idempotent ?? true;
  const producer = kafka.producer({
    idempotent,
    maxInFlightRequests: idempotent ? 1 : 5,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}

/** Produces records to `ballots` in batches, partition = region index modulo `partitions`. */
export async function produceBallots(
  producer: Producer,
  ballots: readonly SyntheticBallot[],
  partitions: number,
  batchSize = 1000,
): Promise<void> {
  for (let start = 0; start < ballots.length; start += batchSize) {
    const messages: Message[] = ballots.slice(start, start + batchSize).map(({ record, regionIndex }) => ({
      value: JSON.stringify(record),
      partition: regionIndex % partitions,
      timestamp: String(record.bucket * 1000),
    }));
    await producer.send({ topic: TOPICS.ballots, acks: -1, messages });
  }
}
