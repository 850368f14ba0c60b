/**
 * Proves reconcile is incremental (DESIGN §5: checkpointed offsets, cost
 * follows new records): a fresh run reads the election from where its
 * records begin; a later run — by the same Reconciler (the publisher's case)
 * or by a new process from the checkpoint on disk (the CLI's, or a restarted
 * publisher's) — reads only the records produced since, and agrees with a
 * fresh scan of the whole log; a checkpoint that describes another log (past
 * the end of today's) is dropped for a fresh scan instead of trusted.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler, reconcile } from '../aggregator/reconcile.js';
import { produceBallots, syntheticBallot, syntheticElection } from '../aggregator/synthetic.js';
import { keysDir } from '../election/keys.js';
import { recordLogStart } from '../election/log-start.js';
import {
  config,
  log,
  migrated,
  partitionCount,
  producer,
  settled,
  testElection,
} from './aggregator.support.js';

const election = syntheticElection(testElection('checkpoint'), 4);
const options = { election: election.id, knownRegions: new Map([[election.id, election.regions]]) };
const batch = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => syntheticBallot(election, from + i));
const total = (report: { regions: readonly { kafka: number }[] }) =>
  report.regions.reduce((sum, r) => sum + r.kafka, 0);

let kafka: Producer;
let partitions: number;

async function produce(from: number, n: number): Promise<void> {
  await produceBallots(kafka, batch(from, n), partitions);
  await settled();
}

beforeAll(async () => {
  await migrated();
  kafka = await producer();
  partitions = await partitionCount();
  await mkdir(keysDir(config.stackDir, election.id), { recursive: true });
  await recordLogStart(config, election.id);
});

afterAll(async () => {
  await kafka?.disconnect();
});

describe('incremental reconcile', () => {
  it('reads the election from where its records begin, then only what arrived since', async () => {
    await produce(0, 300);
    const publisher = new Reconciler(config, log, options);
    const first = await publisher.run();
    expect(first.problems).toEqual([]);
    expect([first.resumed, first.scanned, first.records, total(first)]).toEqual([false, 300, 300, 300]);

    // The same Reconciler, state in memory, as the publisher between snapshots.
    await produce(300, 120);
    const second = await publisher.run();
    expect(second.problems).toEqual([]);
    expect([second.resumed, second.scanned, second.records, total(second)]).toEqual([true, 120, 420, 420]);

    // A new process: the CLI, or the publisher restarted, resumes from the checkpoint on disk.
    await produce(420, 80);
    const third = await reconcile(config, log, options);
    expect(third.problems).toEqual([]);
    expect([third.resumed, third.scanned, third.records, total(third)]).toEqual([true, 80, 500, 500]);

    const fresh = await reconcile(config, log, { ...options, checkpointDir: null });
    expect([fresh.resumed, fresh.scanned]).toEqual([false, 500]);
    expect(fresh.regions).toEqual(third.regions);
  });

  it('drops a checkpoint that describes another log and scans afresh', async () => {
    const header = join(config.stackDir, 'reconcile', `${encodeURIComponent(election.id)}.json`);
    const saved = JSON.parse(await readFile(header, 'utf8')) as { offsets: Record<string, number> };
    const [first] = Object.keys(saved.offsets);
    await writeFile(header, JSON.stringify({ ...saved, offsets: { ...saved.offsets, [first!]: 1e12 } }));
    const report = await reconcile(config, log, options);
    expect(report.problems).toEqual([]);
    expect([report.resumed, report.scanned, total(report)]).toEqual([false, 500, 500]);
    // And it saved a sound checkpoint again.
    const again = await reconcile(config, log, options);
    expect([again.resumed, again.scanned, total(again)]).toEqual([true, 0, 500]);
  });
});
