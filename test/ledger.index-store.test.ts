/**
 * The ledger's dedup key life cycle in real Redis (ingest/ledger/scripts.ts):
 * what a retry after an unanswered produce may and may not do to the key.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotDedupHash, claimKeyOf, credKey } from '../ingest/ledger/entries.js';
import { IndexStore } from '../ingest/ledger/index-store.js';
import { config } from './support/stack.js';

const ELECTION = `ledger-index-${Date.now().toString(36)}`;
const REGION = 'KZ-10';
const redis = new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: true });
let index: IndexStore;

beforeAll(async () => {
  await redis.connect();
  index = new IndexStore(redis, {
    election: ELECTION,
    pendingTtlMs: 60_000,
    busyMs: 200,
    timer: () => undefined,
  });
  await index.beginRebuild(REGION, 'test');
  await index.finishRebuild(REGION, 'test');
});

afterAll(async () => {
  const keys = await redis.keys(`*${ELECTION}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('a dedup key after an unanswered produce', () => {
  it('stays held for its record when a retry of that record never leaves the process', async () => {
    const key = credKey(REGION, ELECTION, 'B1');
    expect(await index.begin(REGION, key, 'h1', 'cast', 'a1')).toBe('new');
    // The first produce went out and got no answer: the record may be in the log.
    expect(await index.settle(key, 'h1', 'unknown', 'a1')).toBe(true);
    expect(await redis.get(key)).toBe('held:h1');
    // The voter retries the same ballot; this time the send provably never leaves.
    expect(await index.begin(REGION, key, 'h1', 'cast', 'a2')).toBe('retry');
    expect(await index.settle(key, 'h1', 'unsent', 'a2')).toBe(true);
    // The first produce may still land: the key must not be free for a different ballot.
    expect(await redis.get(key)).toBe('held:h1');
    expect(await index.begin(REGION, key, 'h2', 'cast', 'a3')).toBe('claimed');
  });

  it('is settled only by the attempt that set it', async () => {
    const key = credKey(REGION, ELECTION, 'B2');
    expect(await index.begin(REGION, key, 'h1', 'cast', 'slow')).toBe('new');
    // The slow attempt outlives the busy window; another process retries the same record.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await index.begin(REGION, key, 'h1', 'cast', 'fast')).toBe('retry');
    // The slow attempt's send never left: it must not free the key the retry now holds.
    expect(await index.settle(key, 'h1', 'unsent', 'slow')).toBe(false);
    expect(await redis.get(key)).toMatch(/^pending!:h1:fast$/);
    expect(await index.begin(REGION, key, 'h2', 'cast', 'other')).toBe('claimed');
  });

  it('refuses a different record for good only once the log holds another first', async () => {
    const key = credKey(REGION, ELECTION, 'B4');
    expect(await index.begin(REGION, key, 'h1', 'cast', 'a1')).toBe('new');
    // Pending or held, the first record may never reach the log: not yet a conflict.
    expect(await index.begin(REGION, key, 'h2', 'cast', 'a2')).toBe('claimed');
    expect(await index.settle(key, 'h1', 'unknown', 'a1')).toBe(true);
    expect(await index.begin(REGION, key, 'h2', 'cast', 'a3')).toBe('claimed');
    // The follower applies the first record from the log: now it is a conflict.
    const [verdict] = await index.apply([{ region: REGION, key, hash: 'h1', done: 'cast' }], () => '');
    expect(verdict).toBe('first');
    expect(await index.begin(REGION, key, 'h2', 'cast', 'a4')).toBe('conflict');
  });

  it('is freed when the only produce of its record provably never left', async () => {
    const key = credKey(REGION, ELECTION, 'B3');
    expect(await index.begin(REGION, key, 'h1', 'cast', 'a1')).toBe('new');
    expect(await index.settle(key, 'h1', 'unsent', 'a1')).toBe(true);
    expect(await redis.get(key)).toBeNull();
    expect(await index.begin(REGION, key, 'h2', 'cast', 'a2')).toBe('new');
  });
});

describe('a ballot key under re-voting: the highest revision wins, first in the log among equals', () => {
  const cast = (key: string, hash: string) => ({ region: REGION, key, hash, done: 'cast' as const });

  it('records a higher revision beside the recorded one, and refuses what does not outrank it', async () => {
    const key = credKey(REGION, ELECTION, 'R1');
    const h0 = ballotDedupHash('a'.repeat(64), 0);
    const h1 = ballotDedupHash('b'.repeat(64), 1);
    const h1other = ballotDedupHash('c'.repeat(64), 1);
    expect(await index.begin(REGION, key, h0, 'cast', 'a0')).toBe('new');
    expect(await index.apply([cast(key, h0)], () => '')).toEqual(['first']);
    // Revision 1 is claimed apart: the key keeps revision 0's mark while it is written.
    expect(await index.begin(REGION, key, h1, 'cast', 'a1', 1)).toBe('new');
    expect(await redis.get(key)).toBe(`cast:${h0}`);
    expect(await index.begin(REGION, key, h1other, 'cast', 'a2', 1)).toBe('claimed');
    expect(await index.apply([cast(key, h1), cast(key, h1other), cast(key, h0)], () => '')).toEqual([
      'first',
      'conflict',
      'conflict',
    ]);
    expect(await redis.get(key)).toBe(`cast:${h1}`);
    expect(await index.begin(REGION, key, h1, 'cast', 'a3', 1)).toBe('done');
    expect(await index.begin(REGION, key, h1other, 'cast', 'a4', 1)).toBe('conflict');
    expect(await index.begin(REGION, key, h0, 'cast', 'a5')).toBe('conflict');
  });

  it('frees only the revision’s own claim when its produce never left', async () => {
    const key = credKey(REGION, ELECTION, 'R2');
    const h0 = ballotDedupHash('a'.repeat(64), 0);
    const h2 = ballotDedupHash('d'.repeat(64), 2);
    await index.apply([cast(key, h0)], () => '');
    expect(await index.begin(REGION, key, h2, 'cast', 'a1', 2)).toBe('new');
    expect(await index.settle(claimKeyOf({ key, rev: 2 }), h2, 'unsent', 'a1')).toBe(true);
    expect(await redis.get(key)).toBe(`cast:${h0}`);
    expect(await index.begin(REGION, key, h0, 'cast', 'a2')).toBe('done');
  });

  it('waits for a first ballot still being written before taking a revision', async () => {
    const key = credKey(REGION, ELECTION, 'R3');
    expect(await index.begin(REGION, key, 'e'.repeat(64), 'cast', 'a1')).toBe('new');
    expect(await index.begin(REGION, key, ballotDedupHash('f'.repeat(64), 1), 'cast', 'a2', 1)).toBe(
      'claimed',
    );
  });
});
