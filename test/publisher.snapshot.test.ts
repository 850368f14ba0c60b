/**
 * The publisher end to end on the real stack: ballots produced to Kafka
 * (each twice), counted by ClickHouse, reconciled, snapshotted, signed and
 * verified — the numbers in the snapshot are the ones produced. And when
 * reconciliation fails, nothing is published and the alert metric drops.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { publishedFiles, verifyPublished } from '../publisher/verify.js';
import {
  awaitInClickHouse,
  closeRealPublishers,
  produceResults,
  realPublisher,
} from './publisher.real-data.js';

afterAll(async () => {
  await closeRealPublishers();
});

describe('publisher on real ClickHouse data', () => {
  it('snapshots exactly the ballots produced (duplicates once), signed, chained and adding up', async () => {
    const t = await realPublisher('pub-snap');
    // The candidate most ballots below pick is struck off by an election event.
    const struck = { race: 'R-NAT', candidate: 'C-NAT-06' };
    const produced = await produceResults(t.index, 60, { removeCandidate: struck });
    await awaitInClickHouse(t.index, produced.codes.length, 1);

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

    const nat = first.races.find((r) => r.id === struck.race)!;
    const i = nat.candidates.findIndex((c) => c.id === struck.candidate);
    expect(nat.candidates[i]!.status).toBe('removed');
    expect(nat.total.candidates[i]!.total).toBeGreaterThan(0);
    expect(nat.total.excluded).toBe(nat.total.candidates[i]!.total);

    const second = await t.scheduler.runOnce();
    expect(second.seq).toBe(2);
    const report = await verifyPublished(publishedFiles(t.dir), { spki: t.spki });
    expect(report).toMatchObject({ election: t.index.id, snapshots: 2 });
  });

  it('publishes nothing when reconciliation fails, says so in the metric, and retries', async () => {
    const t = await realPublisher('pub-fail', { retryMs: 200 });
    const produced = await produceResults(t.index, 8, { badRegion: true });
    await awaitInClickHouse(t.index, produced.codes.length + 1);
    const before = await readdir(t.dir, { recursive: true });

    await expect(t.scheduler.runOnce()).rejects.toMatchObject({
      code: 'reconcile_failed',
      message: expect.stringMatching(/KZ-99: not a region of the election/),
    });
    expect((await t.metrics.reconcileOk.get()).values[0]?.value).toBe(0);

    // On its timer it keeps trying (and keeps failing), never writing a file.
    t.scheduler.start();
    const failures = async () =>
      (await t.metrics.failures.get()).values.find((v) => v.labels.code === 'reconcile_failed')?.value ?? 0;
    await expect.poll(failures, { timeout: 90_000, interval: 500 }).toBeGreaterThanOrEqual(2);
    await t.scheduler.stop();
    expect(await readdir(t.dir, { recursive: true })).toEqual(before);
    expect(t.store.head.seq).toBe(0);
  });
});
