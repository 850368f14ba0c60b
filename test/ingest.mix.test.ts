/**
 * The ballot mix through a real ingest (supervisor + worker) and Kafka: the
 * ballots topic holds a district's ballots in an order unrelated to their
 * arrival. 22 ballots of one district are cast one after another, 80 ms
 * apart, with k = 5 and T = 2 s: they leave in four batches that closed on k
 * (answered before T) and one of two that closed on T (answered after T),
 * each batch shuffled, so the log order is a shuffle within consecutive
 * blocks of 5 — never the arrival order. Each record carries the coarse cast
 * bucket (30 min), and so does its Kafka timestamp. A stop releases what the
 * mix holds at once: held ballots are answered and in the log well before T.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castBucket, TOPICS } from '../common/records.js';
import type { ElectionIndex } from '../election/index.js';
import {
  api,
  forgetElection,
  type Ingest,
  offsetsOf,
  prepareElection,
  readRecords,
  startIngest,
  VoterClient,
  validSelections,
} from './ingest.harness.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_495);
const ELECTION = `ingest-mix-${Date.now().toString(36)}`;
const K = 5;
const T_MS = 2_000;
const GAP_MS = 80;
const kafka = kafkaClient('ingest-mix-test');

let index: ElectionIndex;
let electionPath: string;
let ingest: Ingest | null = null;
/** Members of the district with the most members in the first pages of the roll. */
let voters: string[] = [];
let district = '';

interface Cast {
  readonly body: unknown;
  sentAt: number;
  answeredAt: number;
  status: number;
  ballotId: string;
}

async function credentials(client: VoterClient, memberIds: readonly string[]): Promise<Cast[]> {
  const out: Cast[] = [];
  for (const memberId of memberIds) {
    const credential = await client.credential(memberId, district);
    out.push({
      body: {
        election: index.id,
        district: credential.district,
        credential: { message: credential.message, signature: credential.signature },
        selections: validSelections(index, credential.district),
      },
      sentAt: 0,
      answeredAt: 0,
      status: 0,
      ballotId: '',
    });
  }
  return out;
}

function cast(base: string, c: Cast): Promise<void> {
  c.sentAt = Date.now();
  return api(base, 'POST', '/v1/ballots', c.body).then((res) => {
    c.answeredAt = Date.now();
    c.status = res.status;
    c.ballotId = res.body?.ballotId ?? '';
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ({ index, path: electionPath } = await prepareElection(ELECTION, 5_000));
  ingest = await startIngest({
    election: electionPath,
    port: PORT,
    processes: 1,
    env: { INGEST_MIX_MIN_BALLOTS: String(K), INGEST_MIX_MAX_WAIT_MS: String(T_MS) },
  });
  const byDistrict = new Map<string, string[]>();
  for (const offset of [0, 1000, 2000]) {
    const page = await api(
      ingest.base,
      'GET',
      `/v1/dev/members?election=${index.id}&offset=${offset}&limit=1000`,
    );
    for (const m of page.body.members as { memberId: string; district: string }[]) {
      byDistrict.set(m.district, [...(byDistrict.get(m.district) ?? []), m.memberId]);
    }
  }
  [district, voters] = [...byDistrict].sort((a, b) => b[1].length - a[1].length)[0]!;
}, 300_000);

afterAll(async () => {
  await ingest?.stop();
  await forgetElection(config, ELECTION);
});

describe('the ballot mix', () => {
  it('writes a district’s ballots in shuffled batches of at least k, or after T', async () => {
    const client = new VoterClient(ingest!.base, index.id);
    const casts = await credentials(client, voters.slice(0, 22));
    const before = await offsetsOf(kafka, TOPICS.ballots);
    const pending: Promise<void>[] = [];
    for (const c of casts) {
      pending.push(cast(ingest!.base, c));
      await sleep(GAP_MS);
    }
    await Promise.all(pending);
    expect(casts.map((c) => c.status)).toEqual(casts.map(() => 201));

    // Batches closed on k are answered before T; the last two waited T for a third that never came.
    const latency = casts.map((c) => c.answeredAt - c.sentAt);
    for (const ms of latency.slice(0, 20)) expect(ms).toBeLessThan(T_MS);
    for (const ms of latency.slice(20)) expect(ms).toBeGreaterThanOrEqual(T_MS - GAP_MS - 50);

    const arrival = new Map(casts.map((c, i) => [c.ballotId, i]));
    const records = await readRecords(kafka, TOPICS.ballots, before, (v) => arrival.has(v.ballotId));
    expect(records).toHaveLength(casts.length);
    // The sample election has one partition per region: one log order for the district.
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    const logOrder = records
      .sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))
      .map((r) => arrival.get(r.value.ballotId)!);

    expect(logOrder).not.toEqual([...logOrder].sort((a, b) => a - b));
    const blocks = [0, 5, 10, 15, 20].map((start) => logOrder.slice(start, start + K));
    expect(blocks.map((b) => [...b].sort((x, y) => x - y))).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14],
      [15, 16, 17, 18, 19],
      [20, 21],
    ]);

    // Coarse cast time: the record and its Kafka timestamp say only the half hour.
    expect(index.castBucketSec).toBe(1800);
    for (const r of records) {
      const c = casts[arrival.get(r.value.ballotId)!]!;
      expect([castBucket(c.sentAt, 1800), castBucket(c.answeredAt, 1800)]).toContain(r.value.bucket);
      expect(Number(r.timestamp)).toBe(r.value.bucket * 1000);
    }
  });

  it('releases what it holds on stop: held ballots are answered and written long before T', async () => {
    await ingest!.stop();
    ingest = await startIngest({
      election: electionPath,
      port: PORT,
      processes: 1,
      env: {
        INGEST_MIX_MIN_BALLOTS: '50',
        INGEST_MIX_MAX_WAIT_MS: '10000',
        INGEST_PRODUCE_TIMEOUT_MS: '40000',
      },
    });
    const client = new VoterClient(ingest.base, index.id);
    const casts = await credentials(client, voters.slice(22, 25));
    const before = await offsetsOf(kafka, TOPICS.ballots);
    const pending = casts.map((c) => cast(ingest!.base, c));
    await sleep(500); // all three are held: k = 50 is far off, T = 10 s
    expect(casts.every((c) => c.status === 0)).toBe(true);
    const stoppedAt = Date.now();
    const exitCode = await ingest.stop();
    await Promise.all(pending);
    expect(exitCode).toBe(0);
    expect(casts.map((c) => c.status)).toEqual([201, 201, 201]);
    for (const c of casts) expect(c.answeredAt - stoppedAt).toBeLessThan(5_000);
    const ids = new Set(casts.map((c) => c.ballotId));
    expect(await readRecords(kafka, TOPICS.ballots, before, (v) => ids.has(v.ballotId))).toHaveLength(3);
    ingest = null;
  });
});
