/**
 * Re-voting (election config `revoting`, docs/guarantees.md § Re-voting):
 * "highest revision wins, first in the log among equals", end to end.
 *
 * An election with `revoting: true` (tiny.json: its national race has two
 * active candidates, so the third revision goes back to the first one's
 * choices — the same ballotHash at a higher revision, the hardest case for
 * versions told apart by hash): 300 voters cast through the real API while
 * one of them casts three revisions.
 * Exactly the last counts — in `tally`, in reconcile (which passes, and
 * fails once ClickHouse loses that revision) and in the counted codes; the
 * ledger answers a lower or equal revision with other content 409 and the
 * same one `repeated`, also after Redis lost everything and was rebuilt from
 * Kafka. With the option off, a second ballot is refused as before.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { codes, tallyByDistrict } from '../aggregator/queries.js';
import { reconcile } from '../aggregator/reconcile.js';
import { idLiteral } from '../aggregator/sql.js';
import { repoRoot } from '../common/paths.js';
import { type ElectionIndex, loadElection } from '../election/index.js';
import { credKey } from '../ingest/ledger/entries.js';
import { config, eventually, log, migrated, settled } from './aggregator.support.js';
import {
  api,
  forgetElection,
  type Ingest,
  outputDir,
  startIngest,
  VoterClient,
  validSelections,
  type Wire,
} from './ingest.harness.js';
import { testPort } from './support/ports.js';

const run = promisify(execFile);
const PORT_ON = testPort(18_800);
const PORT_OFF = testPort(18_801);
const stamp = Date.now().toString(36);
const ON = `revote-on-${stamp}`;
const OFF = `revote-off-${stamp}`;
/** Voters besides the one who re-votes. */
const OTHERS = 300;

const redis = new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: true });
let ch: ClickHouse;
let on: { index: ElectionIndex; ingest: Ingest; client: VoterClient };
let off: { index: ElectionIndex; ingest: Ingest; client: VoterClient };

/** One accepted ballot: what the tally must count for it. */
interface Cast {
  readonly ballotId: string;
  readonly district: string;
  readonly selections: { race: string; choices: string[] }[];
}
const counted: Cast[] = [];
/** The re-voter's three revisions (each other choices) under one credential. */
let revisions: ReturnType<typeof body>[] = [];
let revoter: Cast;
const revisionReceipts: string[] = [];

/** `tiny.json` (3 districts: keys are quick to make) under `id`, open now; `election init` run. */
async function prepareTiny(id: string, revoting: boolean): Promise<ElectionIndex> {
  mkdirSync(outputDir, { recursive: true });
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  const path = join(outputDir, `${id}.json`);
  const election = { ...tiny, id, revoting, sampleRoll: { seed: id, size: 1_000 } };
  writeFileSync(path, `${JSON.stringify(election, null, 2)}\n`);
  await run(process.execPath, ['--import', 'tsx', 'election/cli.ts', 'init', path], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return loadElection(path);
}

async function open(id: string, revoting: boolean, port: number) {
  const index = await prepareTiny(id, revoting);
  const ingest = await startIngest({ election: join(outputDir, `${id}.json`), port });
  return { index, ingest, client: new VoterClient(ingest.base, index.id) };
}

function body(
  index: ElectionIndex,
  credential: { message: string; signature: string; district: string },
  pick: number,
  rev?: number,
) {
  return {
    election: index.id,
    district: credential.district,
    credential: { message: credential.message, signature: credential.signature },
    selections: validSelections(index, credential.district, pick),
    ...(rev === undefined ? {} : { rev }),
  };
}

async function cast(base: string, ballot: unknown) {
  return api(base, 'POST', '/v1/ballots', ballot);
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The tally rows `casts` make, as tallyByDistrict returns them (sorted). */
function expectedTally(index: ElectionIndex, casts: readonly Cast[]) {
  const votes = new Map<string, number>();
  for (const c of casts) {
    const region = index.district(c.district)!.region;
    for (const { race, choices } of c.selections) {
      for (const candidate of choices) {
        const key = [race, region, c.district, candidate].join('|');
        votes.set(key, (votes.get(key) ?? 0) + 1);
      }
    }
  }
  return [...votes]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, n]) => {
      const [race, region, district, candidate] = key.split('|') as [string, string, string, string];
      return { race, region, district, candidate, votes: n };
    });
}

async function actualTally(election: string) {
  return (await tallyByDistrict(ch, election)).sort((a, b) =>
    [a.race, a.region, a.district, a.candidate].join('|') <
    [b.race, b.region, b.district, b.candidate].join('|')
      ? -1
      : 1,
  );
}

beforeAll(async () => {
  await migrated();
  await redis.connect();
  ch = new ClickHouse(config);
  // One after the other: two ingest processes starting at once on a busy box may miss the harness's 60 s.
  on = await open(ON, true, PORT_ON);
  off = await open(OFF, false, PORT_OFF);
  const members: { memberId: string; district: string }[] = (
    await api(on.ingest.base, 'GET', `/v1/dev/members?election=${ON}&limit=${OTHERS + 1}`)
  ).body.members;
  const [mine, ...others] = members;
  // The re-voter's credential first; the three revisions go out while the others cast.
  const credential = await on.client.credential(mine!.memberId, mine!.district);
  revisions = [0, 1, 2].map((rev) => body(on.index, credential, rev, rev));
  const revote = (async () => {
    for (const ballot of revisions) {
      const res = await cast(on.ingest.base, ballot);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      revisionReceipts.push(res.body.receipt);
      revoter = { ballotId: res.body.ballotId, district: ballot.district, selections: ballot.selections };
    }
  })();
  await pool(others, 16, async (member) => {
    const c = await on.client.credential(member.memberId, member.district);
    const ballot = body(on.index, c, counted.length);
    const res = await cast(on.ingest.base, ballot);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    counted.push({ ballotId: res.body.ballotId, district: ballot.district, selections: ballot.selections });
  });
  await revote;
  counted.push(revoter);
  await settled();
}, 240_000);

afterAll(async () => {
  await Promise.all([on?.ingest.stop(), off?.ingest.stop()]);
  redis.disconnect();
  await ch?.close();
  await forgetElection(config, ON);
  await forgetElection(config, OFF);
});

describe('re-voting off (the default)', () => {
  it('refuses a second ballot as today, and a revision above 0 as a bad request', async () => {
    const [member] = (await api(off.ingest.base, 'GET', `/v1/dev/members?election=${OFF}&limit=1`)).body
      .members;
    const credential = await off.client.credential(member.memberId, member.district);
    const first = await cast(off.ingest.base, body(off.index, credential, 0));
    expect(first.status).toBe(201);
    const second = await cast(off.ingest.base, body(off.index, credential, 1));
    expect([second.status, second.body.error?.code]).toEqual([409, 'credential_already_used']);
    const revised = await cast(off.ingest.base, body(off.index, credential, 1, 1));
    expect([revised.status, revised.body.error?.code]).toEqual([400, 'bad_request']);
    const zero = await cast(off.ingest.base, body(off.index, credential, 0, 0));
    expect(zero.status).toBe(200);
  });
});

describe('re-voting on', () => {
  it('gives every revision the credential’s one receipt, and refuses what does not outrank it', async () => {
    const [first, second, third] = revisions as [Wire, Wire, Wire];
    const again = await cast(on.ingest.base, third);
    expect(again.status).toBe(200);
    expect(new Set([...revisionReceipts, again.body.receipt]).size).toBe(1);
    // The same revision with other content, and a lower one (even one the log holds): 409 as today.
    for (const ballot of [{ ...third, selections: second.selections }, second, first]) {
      const res = await cast(on.ingest.base, ballot);
      expect([res.status, res.body.error?.code]).toEqual([409, 'credential_already_used']);
    }
    const receipt = await api(on.ingest.base, 'GET', `/v1/receipts/${revoter.ballotId}`);
    expect(receipt.body).toEqual({ status: 'accepted' });
  });

  it('counts exactly the last revision in tally and in the counted codes', async () => {
    const expected = expectedTally(on.index, counted);
    expect(await eventually(() => actualTally(ON), expected)).toEqual(expected);
    // Without the last revision in the count: not what the tally says.
    expect(expected).not.toEqual(
      expectedTally(on.index, [
        ...counted.slice(0, -1),
        { ...revoter, selections: (revisions[1] as Wire).selections },
      ]),
    );
    expect(await codes(ch, ON)).toEqual(counted.map((c) => c.ballotId).sort());
  });

  it('reconcile agrees: the highest revision is the one acknowledged', async () => {
    const report = await reconcile(config, log, {
      election: ON,
      knownRegions: new Map([[ON, on.index.config.regions.map((r) => r.code)]]),
    });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const [winner] = await ch.rows<{ rev: number; n: string }>(
      `SELECT argMin(rev, (4294967295 - rev, log_partition * 1099511627776 + log_offset)) AS rev, count() AS n
       FROM revision_winners WHERE election = ${idLiteral(ON)} AND ballot_id = ${idLiteral(revoter.ballotId)}`,
    );
    expect(Number(winner?.rev)).toBe(2);
    expect(await actualTally(ON)).toEqual(expectedTally(on.index, counted));
  });

  it('keeps the highest revision when Redis lost everything and the index is rebuilt from Kafka', async () => {
    await redis.flushall();
    const third = revisions[2] as Wire;
    // 503 rebuilding until the follower has replayed the log; then the same revision is repeated.
    let res = await cast(on.ingest.base, third);
    for (let i = 0; i < 120 && res.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 250));
      res = await cast(on.ingest.base, third);
    }
    expect(res.status).toBe(200);
    const region = on.index.district(revoter.district)!.region;
    expect(await redis.get(credKey(region, ON, revoter.ballotId))).toMatch(/^cast:[0-9a-f]{64}\.2$/);
    const lower = await cast(on.ingest.base, revisions[1]);
    expect([lower.status, lower.body.error?.code]).toEqual([409, 'credential_already_used']);
  });

  it('reconcile fails once ClickHouse has lost the winning revision (and counts no other instead)', async () => {
    await ch.command(
      `ALTER TABLE ballots_raw DELETE WHERE election = ${idLiteral(ON)}
       AND ballot_id = ${idLiteral(revoter.ballotId)} AND rev = 2`,
    );
    for (let i = 0; i < 100; i++) {
      const [pending] = await ch.rows<{ n: string }>(
        `SELECT count() AS n FROM system.mutations WHERE database = '${ch.database}' AND table = 'ballots_raw' AND is_done = 0`,
      );
      if (Number(pending?.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const region = on.index.district(revoter.district)!.region;
    const report = await reconcile(config, log, {
      election: ON,
      knownRegions: new Map([[ON, on.index.config.regions.map((r) => r.code)]]),
    });
    expect(report.ok).toBe(false);
    const acknowledged = counted.filter((c) => on.index.district(c.district)!.region === region).length;
    expect(report.problems).toContain(
      `${ON} ${region}: acknowledged ${acknowledged} ≠ stored ${acknowledged - 1}`,
    );
    expect(await codes(ch, ON)).toEqual(
      counted
        .filter((c) => c !== revoter)
        .map((c) => c.ballotId)
        .sort(),
    );
  });
});
