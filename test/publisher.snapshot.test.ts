/**
 * The publisher end to end on the real stack: ballots produced to Kafka
 * (each twice), counted by ClickHouse, reconciled, snapshotted, signed and
 * verified — the numbers in the snapshot are the ones produced, per district
 * too; the index of snapshots and live.json's next snapshot time follow the
 * chain and the scheduler's timer. And when
 * reconciliation fails, nothing is published and the alert metric drops.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleRollCounts } from '../election/index.js';
import { LiveFeed } from '../publisher/live-feed.js';
import { snapshotHash } from '../publisher/signer.js';
import type { Snapshot, SnapshotIndex } from '../publisher/snapshot.js';
import { publishedFiles, verifyPublished } from '../publisher/verify.js';
import {
  awaitInClickHouse,
  closeRealPublishers,
  produceResults,
  realPublisher,
  TEST_DISTRICTS,
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

    // District turnout (v5): every district of the config in its order, each one what was produced in
    // it and what ClickHouse counts under its id; the roll and paper precincts the config's; each
    // region the sum of its districts.
    const rows = new Map((await t.source.turnout(t.index.id)).map((r) => [r.district, r]));
    const roll = sampleRollCounts(t.index);
    const districts = first.turnout.districts!;
    expect(districts.map((d) => d.id)).toEqual(t.index.config.districts.map((d) => d.id));
    expect([...produced.districts.keys()].sort()).toEqual([...TEST_DISTRICTS].sort());
    for (const d of districts) {
      const { issuedOnline, issuedPaper, castOnline, castPaper } = d;
      const made = produced.districts.get(d.id) ?? {
        issuedOnline: 0,
        issuedPaper: 0,
        castOnline: 0,
        castPaper: 0,
      };
      expect({ issuedOnline, issuedPaper, castOnline, castPaper }, d.id).toEqual(made);
      const row = rows.get(d.id) ?? { issuedOnline: 0, issuedPaper: 0, castOnline: 0 };
      expect([issuedOnline, issuedPaper, castOnline], `${d.id} in ClickHouse`).toEqual([
        row.issuedOnline,
        row.issuedPaper,
        row.castOnline,
      ]);
      expect(d.roll, d.id).toBe(roll.get(d.id));
      expect(d.precincts, d.id).toBe(t.index.config.paperPrecincts.filter((p) => p.district === d.id).length);
      expect(d.precinctsReported, d.id).toBe(d.castPaper > 0 ? 1 : 0);
    }
    for (const r of first.turnout.regions) {
      const mine = districts.filter((d) => d.region === r.code);
      const { code: _c, names: _n, ...counts } = r;
      for (const [field, n] of Object.entries(counts))
        expect(
          mine.reduce((sum, d) => sum + d[field as keyof typeof counts], 0),
          `${r.code} ${field}`,
        ).toBe(n);
    }
    expect(first.election).toEqual({
      id: t.index.id,
      names: t.index.config.names,
      closes: t.index.config.closes,
      snapshotIntervalSec: 60,
      about: t.index.config.about,
    });

    // On its timer: the next snapshot at once, then the next try one interval later — which is
    // what live.json says, read from the scheduler's own timer.
    t.scheduler.start();
    await expect.poll(() => t.store.head.seq, { timeout: 90_000 }).toBe(2);
    await expect
      .poll(() => (t.scheduler.nextAttemptAt ?? 0) - Date.now(), { timeout: 10_000 })
      .toBeGreaterThan(30_000);
    const due = t.scheduler.nextAttemptAt!;
    const live = await new LiveFeed({
      ...t,
      intervalMs: 5_000,
      nextSnapshotAt: () => t.scheduler.nextAttemptAt,
    }).refresh();
    expect(live.nextSnapshotAt).toBe(
      new Date(Math.ceil(due / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    );
    expect(JSON.parse(await readFile(join(t.dir, 'live.json'), 'utf8')).nextSnapshotAt).toBe(
      live.nextSnapshotAt,
    );
    await t.scheduler.stop();
    expect(t.scheduler.nextAttemptAt).toBeNull();

    // snapshots/index.json: the chain, newest first; each hash the next snapshot's prevHash.
    const second = JSON.parse(await readFile(join(t.dir, 'latest.json'), 'utf8')) as Snapshot;
    const index = JSON.parse(await readFile(join(t.dir, 'snapshots', 'index.json'), 'utf8')) as SnapshotIndex;
    expect(index).toEqual({
      v: 1,
      election: t.index.id,
      snapshots: [second, first].map((s) => ({
        seq: s.seq,
        takenAt: s.takenAt,
        hash: snapshotHash(s),
        prevHash: s.prevHash,
        codes: 60,
        final: null,
      })),
    });
    expect(index.snapshots[1]!.hash).toBe(second.prevHash);
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
