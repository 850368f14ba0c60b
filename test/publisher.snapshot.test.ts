/**
 * The publisher end to end on the real stack: ballots produced to Kafka
 * (each twice), counted by ClickHouse, reconciled, snapshotted, signed and
 * verified — the numbers in the snapshot are the ones produced. And when
 * reconciliation fails, nothing is published and the alert metric drops.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { ClickHouseSource } from '../publisher/clickhouse-source.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { rollSourceFor } from '../publisher/roll-source.js';
import { SnapshotScheduler } from '../publisher/scheduler.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';
import { publishedFiles, verifyPublished } from '../publisher/verify.js';
import { awaitInClickHouse, produceResults, testElection } from './publisher.real-data.js';
import { config } from './support/stack.js';

const logger = createLogger('publisher-test', 'warn');
const noRedis = () => {
  throw new Error('the sample roll needs no Redis');
};
const dirs: string[] = [];
const sources: ClickHouseSource[] = [];

async function setUp(prefix: string) {
  const index = testElection(prefix);
  const dir = await mkdtemp(join(tmpdir(), `saylau-${prefix}-`));
  dirs.push(dir);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
  const store = new SnapshotStore(dir);
  await store.open();
  const source = new ClickHouseSource(config, logger, index, 90_000);
  sources.push(source);
  const metrics = new PublisherMetrics();
  const scheduler = new SnapshotScheduler({
    index,
    source,
    roll: rollSourceFor(index, noRedis),
    store,
    privateKey,
    metrics,
    logger,
    intervalMs: 60_000,
    settleTimeoutMs: 90_000,
  });
  return { index, dir, spki, store, metrics, scheduler };
}

beforeAll(() => undefined);
afterAll(async () => {
  await Promise.allSettled(sources.map((s) => s.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('publisher on real ClickHouse data', () => {
  it('snapshots exactly the ballots produced (duplicates once), signed, chained and adding up', async () => {
    const t = await setUp('pub-snap');
    const produced = await produceResults(t.index, 60);
    await awaitInClickHouse(t.index, produced.codes.length);

    const first = await t.scheduler.runOnce();
    expect(first.seq).toBe(1);
    expect(first.prevHash).toBeNull();
    expect(first.codes.count).toBe(60);
    expect(first.turnout.total.castOnline).toBe(60);
    expect(first.turnout.total.issuedOnline).toBe(75);
    expect(first.turnout.total.issuedPaper).toBe(9);
    expect(first.turnout.total.castPaper).toBe(produced.paperBallots);
    expect(first.reporting).toEqual({ precincts: t.index.config.paperPrecincts.length, reported: 1 });
    for (const race of first.races) {
      const want = produced.online.get(race.id);
      for (const c of race.total.candidates)
        expect(c.online, `${race.id} ${c.id}`).toBe(want?.get(c.id) ?? 0);
    }
    // R-35-1 has a removed candidate: shown, excluded from the valid total.
    const r35 = first.races.find((r) => r.id === 'R-35-1')!;
    const removed = r35.candidates.findIndex((c) => c.status === 'removed');
    const sum = r35.total.candidates.reduce((n, c) => n + c.total, 0);
    expect(r35.total.excluded).toBe(r35.total.candidates[removed]!.total);
    expect(r35.total.valid).toBe(sum - r35.total.excluded);

    const second = await t.scheduler.runOnce();
    expect(second.seq).toBe(2);
    const report = await verifyPublished(publishedFiles(t.dir), { spki: t.spki });
    expect(report).toMatchObject({ election: t.index.id, snapshots: 2 });
  });

  it('publishes nothing when reconciliation fails, and says so in the metric', async () => {
    const t = await setUp('pub-fail');
    const produced = await produceResults(t.index, 8, { badRegion: true });
    await awaitInClickHouse(t.index, produced.codes.length + 1);
    const before = await readdir(t.dir, { recursive: true });

    await expect(t.scheduler.runOnce()).rejects.toMatchObject({
      code: 'reconcile_failed',
      message: expect.stringMatching(/KZ-99: not a region of the election/),
    });
    expect(await readdir(t.dir, { recursive: true })).toEqual(before);
    expect(t.store.head.seq).toBe(0);
    expect((await t.metrics.reconcileOk.get()).values[0]?.value).toBe(0);
  });
});
