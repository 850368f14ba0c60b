/**
 * Proves reconciliation catches what it must: it passes on a clean run, and
 * fails (exit code 1 from the CLI, naming the region) when Kafka holds a
 * ballot under a region the election does not have, or when rows have been
 * deleted from `ballots_raw` (an 18.16 `ALTER TABLE … DELETE` mutation);
 * and `repair` puts the deleted ballots back from Kafka, after which it
 * passes again. Each election records where its records begin (as
 * `election init` does), so reconcile reads only its own part of the shared
 * `ballots` topic.
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { storedBallots } from '../aggregator/queries.js';
import { reconcile } from '../aggregator/reconcile.js';
import { repair } from '../aggregator/repair.js';
import { idLiteral } from '../aggregator/sql.js';
import {
  produceBallots,
  type SyntheticBallot,
  syntheticBallot,
  syntheticElection,
} from '../aggregator/synthetic.js';
import { repoRoot } from '../common/paths.js';
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

const clean = syntheticElection(testElection('rec-clean'));
const stray = syntheticElection(testElection('rec-stray'), 4);
const deleted = syntheticElection(testElection('rec-deleted'), 4);
const make = (e: typeof clean, n: number): SyntheticBallot[] =>
  Array.from({ length: n }, (_, i) => syntheticBallot(e, i));
const known = (e: typeof clean): ReadonlyMap<string, readonly string[]> => new Map([[e.id, e.regions]]);

let kafka: Producer;
let ch: ClickHouse;

beforeAll(async () => {
  await migrated();
  kafka = await producer();
  ch = new ClickHouse(config);
  const partitions = await partitionCount();
  for (const e of [clean, stray, deleted]) {
    await mkdir(keysDir(config.stackDir, e.id), { recursive: true });
    await recordLogStart(config, e.id);
  }
  await produceBallots(kafka, make(clean, 2_000), partitions);
  await produceBallots(kafka, make(deleted, 400), partitions);
  // A ballot under a region the election does not have: ClickHouse stores it
  // like any other record, and only the check against the config sees it.
  const strayBallots = make(stray, 400);
  const outsider = syntheticBallot(stray, 400);
  strayBallots.push({ record: { ...outsider.record, region: 'R99', district: 'R99-D1' }, regionIndex: 3 });
  await produceBallots(kafka, strayBallots, partitions);
  await settled();
});

afterAll(async () => {
  await kafka?.disconnect();
  await ch?.close();
});

function cli(election: string): { status: number | null; out: string } {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'aggregator/cli.ts', 'reconcile', '--election', election],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
      timeout: 90_000,
    },
  );
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('reconcile', () => {
  it('passes on a clean run: Kafka = ballots_raw = tally in every region', async () => {
    const report = await reconcile(config, log, { election: clean.id, knownRegions: known(clean) });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.regions.map((r) => r.region)).toEqual(clean.regions);
    expect(report.regions.reduce((s, r) => s + r.kafka, 0)).toBe(2_000);
    expect(report.regions.every((r) => r.kafka === r.stored && r.races.length === 3)).toBe(true);
  });

  it('fails naming the region when Kafka holds a ballot under a region the election does not have', async () => {
    const report = await reconcile(config, log, { election: stray.id, knownRegions: known(stray) });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `${stray.id} R99: not a region of the election (1 acknowledged, 1 stored)`,
    ]);
  });

  it('fails naming the region when rows are deleted from ballots_raw', async () => {
    const victims = await ch.rows<{ ballot_id: string }>(
      `SELECT DISTINCT ballot_id FROM ballots_raw
       WHERE election = ${idLiteral(deleted.id)} AND region = 'R02' ORDER BY ballot_id LIMIT 3`,
    );
    expect(victims).toHaveLength(3);
    await ch.command(
      `ALTER TABLE ballots_raw DELETE WHERE election = ${idLiteral(deleted.id)}
       AND ballot_id IN (${victims.map((v) => idLiteral(v.ballot_id)).join(', ')})`,
    );
    // Mutations run in the background; wait until this one is done.
    for (let i = 0; i < 100; i++) {
      const [pending] = await ch.rows<{ n: string }>(
        `SELECT count() AS n FROM system.mutations WHERE database = '${ch.database}' AND table = 'ballots_raw' AND is_done = 0`,
      );
      if (Number(pending?.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { status, out } = cli(deleted.id);
    expect(status).toBe(1);
    expect(out).toContain(`MISMATCH ${deleted.id} R02: acknowledged 100 ≠ stored 97`);
    expect(out).toContain('reconcile: FAILED (1 problem(s))');
  });

  it('is repaired by re-inserting the region from Kafka', async () => {
    const { reinserted } = await repair(config, log, { election: deleted.id, region: 'R02' });
    expect(reinserted).toBe(100);
    expect([...(await storedBallots(ch, deleted.id)).entries()]).toEqual(
      deleted.regions.map((r) => [r, 100]),
    );
    // Resumed from the CLI's checkpoint: nothing new to read, and ClickHouse agrees again.
    const report = await reconcile(config, log, { election: deleted.id, knownRegions: known(deleted) });
    expect(report.problems).toEqual([]);
    expect([report.ok, report.resumed]).toEqual([true, true]);
  });
});
