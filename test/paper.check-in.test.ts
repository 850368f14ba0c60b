/**
 * Paper check-ins through real ingest processes on the real stack: officials
 * of several precincts checking members in at once, the channel rule against
 * online issuance both ways, another precinct, a resend, the roll and the
 * precinct's window, tokens in the wrong place, the bulk import CLI, the
 * `issuance` topic holding exactly one paper record per checked-in member,
 * and the rule kept after Redis lost everything.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import { TOPICS } from '../common/records.js';
import {
  type ElectionIndex,
  type ElectionKeys,
  issueDevStaffToken,
  issueDevToken,
  readKeys,
  voterHash,
} from '../election/index.js';
import {
  api,
  forgetElection,
  type Ingest,
  offsetsOf,
  outputDir,
  prepareElection,
  readRecords,
  startIngest,
  VoterClient,
  type Wire,
} from './ingest.harness.js';
import {
  checkIn,
  membersByDistrict,
  type Official,
  officialsOf,
  outcomeOf,
  untilFinal,
} from './paper.harness.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_561);
const ELECTION = `paper-check-in-${Date.now().toString(36)}`;
/** Its window is over: check-ins there are refused. */
const CLOSED = 'P-75-1';
/** Closes while the tests run: a check-in made before is answered `repeated` after, a new one refused. */
const CLOSING = 'P-79-3';
const CLOSING_AFTER_MS = 25_000;
let closingAt: number;
/** Two precincts of one district (sample config): a member may go to either, once. */
const TWIN_DISTRICT = 'D-23-1';
const kafka = kafkaClient('paper-check-in-test');

const run = promisify(execFile);

let ingest: Ingest;
let electionPath: string;
let index: ElectionIndex;
let keys: ElectionKeys;
let officials: Official[];
let members: Map<string, string[]>;
let client: VoterClient;
let since: Map<number, string>;
/** voterHash → precinct of every member this file checked in successfully. */
const checkedIn = new Map<string, string>();
/** Members whose channel a Redis loss must not make the ledger forget. */
const held = { twin: '', online: '', paper: '' };

/** A member of `district` nobody in this run has used yet. */
function fresh(district: string): string {
  const member = members.get(district)?.pop();
  if (member === undefined) throw new Error(`out of members in ${district}`);
  return member;
}

const officialsAt = (precinct: string): Official[] => officials.filter((o) => o.precinct === precinct);

async function checkInOk(official: Official, memberId: string): Promise<Wire> {
  const res = await checkIn(ingest.base, index.id, official.token, memberId);
  if (res.status === 200 && res.body.status === 'checked_in') {
    checkedIn.set(voterHash(keys.pepper, memberId), official.precinct);
  }
  return res;
}

/** Runs a CLI from source; resolves with its exit code and output whatever the code. */
async function tsx(
  file: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: repoRoot,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A refused line's detail is the service's message: not compared. */
const withoutMessage = (line: string): string =>
  line.includes('\tnot_eligible\t') ? line.split('\t').slice(0, 3).join('\t') : line;

beforeAll(async () => {
  closingAt = Math.ceil((Date.now() + CLOSING_AFTER_MS) / 1000) * 1000;
  ({ index, path: electionPath } = await prepareElection(ELECTION, 20_000, (c) => ({
    ...c,
    paperPrecincts: c.paperPrecincts.map((p: Wire) =>
      p.id === CLOSED
        ? { ...p, opens: '2020-01-01T00:00:00Z', closes: '2020-01-02T00:00:00Z' }
        : p.id === CLOSING
          ? { ...p, closes: new Date(closingAt).toISOString().replace('.000Z', 'Z') }
          : p,
    ),
  })));
  keys = await readKeys(config.stackDir, index.id);
  officials = await officialsOf(index, keys);
  members = membersByDistrict(index, 20_000);
  since = await offsetsOf(kafka, TOPICS.issuance);
  ingest = await startIngest({
    election: electionPath,
    port: PORT,
    processes: 2,
    // Low enough that the CLI's import meets 429 and must wait it out.
    env: { INGEST_PAPER_OFFICIAL_BURST: '10', INGEST_PAPER_OFFICIAL_PER_MIN: '600' },
  });
  client = new VoterClient(ingest.base, index.id);
}, 300_000);

afterAll(async () => {
  await ingest?.stop();
  await forgetElection(config, ELECTION);
});

describe('paper check-ins', () => {
  it('answers a resend after closing repeated when the check-in was made before, and refuses a new one', async () => {
    const precinct = index.config.paperPrecincts.find((p) => p.id === CLOSING)!;
    const official = officialsAt(CLOSING)[0]!;
    const before = fresh(precinct.district);
    expect(Date.now()).toBeLessThan(closingAt - 2_000);
    const first = await checkInOk(official, before);
    expect(first.body.status).toBe('checked_in');
    await new Promise((resolve) => setTimeout(resolve, closingAt - Date.now() + 200));
    const resent = await checkInOk(official, before);
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({ status: 'repeated', precinct: CLOSING, district: precinct.district });
    const late = await checkInOk(official, fresh(precinct.district));
    expect(late.status).toBe(403);
    expect(late.body.error.code).toBe('precinct_closed');
  });

  it('checks members in at several precincts at once, every official of a station in parallel', async () => {
    const precincts = index.config.paperPrecincts.filter((p) => p.id !== CLOSED).slice(0, 6);
    const sends = precincts.flatMap((p) => {
      const staff = officialsAt(p.id);
      return Array.from({ length: 12 }, (_, i) => checkInOk(staff[i % staff.length]!, fresh(p.district)));
    });
    const answers = await Promise.all(sends);
    expect(answers.map(outcomeOf)).toEqual(answers.map(() => 'checked_in'));
    for (const [i, res] of answers.entries()) {
      const precinct = precincts[Math.floor(i / 12)]!;
      expect(res.body).toEqual({ status: 'checked_in', precinct: precinct.id, district: precinct.district });
    }
  });

  it('answers a resend at the same precinct (any of its officials) with repeated', async () => {
    const [chair, secretary] = officialsAt('P-10-1');
    const member = fresh('D-10-1');
    expect(outcomeOf(await checkInOk(chair!, member))).toBe('checked_in');
    const again = await checkInOk(secretary!, member);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'repeated', precinct: 'P-10-1', district: 'D-10-1' });
  });

  it('refuses a member checked in at another precinct: already_checked_in', async () => {
    const [first, second] = index.config.paperPrecincts.filter((p) => p.district === TWIN_DISTRICT);
    const member = fresh(TWIN_DISTRICT);
    held.twin = member;
    expect(outcomeOf(await checkInOk(officialsAt(first!.id)[0]!, member))).toBe('checked_in');
    const other = await checkInOk(officialsAt(second!.id)[0]!, member);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('already_checked_in');
  });

  it('refuses a member who has an online credential: already_issued_online', async () => {
    const member = fresh('D-10-1');
    held.online = member;
    await client.credential(member, 'D-10-1');
    const res = await checkInOk(officialsAt('P-10-1')[0]!, member);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('already_issued_online');
  });

  it('refuses an online credential to a member checked in on paper: checked_in_on_paper', async () => {
    const member = fresh('D-10-1');
    held.paper = member;
    expect(outcomeOf(await checkInOk(officialsAt('P-10-1')[0]!, member))).toBe('checked_in');
    await expect(client.credential(member, 'D-10-1')).rejects.toThrow(/409 .*checked_in_on_paper/);
  });

  it('refuses a member of another district: not_eligible', async () => {
    const res = await checkInOk(officialsAt('P-10-1')[0]!, fresh('D-10-2'));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('not_eligible');
  });

  it('refuses check-ins outside the precinct’s window: precinct_closed', async () => {
    const precinct = index.config.paperPrecincts.find((p) => p.id === CLOSED)!;
    const res = await checkInOk(officialsAt(CLOSED)[0]!, fresh(precinct.district));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('precinct_closed');
  });

  it('keeps voter and staff tokens apart: token_wrong_role', async () => {
    const member = fresh('D-10-1');
    const voterToken = await issueDevToken(keys, index, member);
    const asVoter = await checkIn(ingest.base, index.id, voterToken, fresh('D-10-1'));
    expect([asVoter.status, asVoter.body.error.code]).toEqual([403, 'token_wrong_role']);
    const observer = await issueDevStaffToken(keys, index, { role: 'observer', id: 'proxy-1' });
    const asObserver = await checkIn(ingest.base, index.id, observer, member);
    expect([asObserver.status, asObserver.body.error.code]).toEqual([403, 'token_wrong_role']);
    // An official's token is no voter's: no credential with it.
    const credential = await api(
      ingest.base,
      'POST',
      '/v1/credentials',
      { election: index.id, blindedMessage: 'AAAA' },
      { authorization: `Bearer ${officialsAt('P-10-1')[0]!.token}` },
    );
    expect([credential.status, credential.body.error.code]).toEqual([403, 'token_wrong_role']);
    // An official named with a precinct that does not list them.
    const forged = await issueDevStaffToken(keys, index, {
      role: 'official',
      id: 'O-10-1-a',
      precinct: 'P-10-2',
    });
    const asForged = await checkIn(ingest.base, index.id, forged, member);
    expect([asForged.status, asForged.body.error.code]).toEqual([403, 'token_wrong_role']);
    const none = await checkIn(ingest.base, index.id, 'not-a-token', member);
    expect([none.status, none.body.error.code]).toEqual([401, 'unauthorized']);
  });

  it('imports a station’s list with the CLI, line by line in order, again as repeated', async () => {
    const token = await tsx(
      'election/cli.ts',
      'staff-token',
      electionPath,
      '--role',
      'official',
      '--official',
      'O-10-1-b',
    );
    const tokenFile = join(outputDir, `${ELECTION}.token`);
    writeFileSync(tokenFile, token.stdout);
    const list = Array.from({ length: 20 }, () => fresh('D-10-1'));
    const stranger = fresh('D-10-2');
    const listFile = join(outputDir, `${ELECTION}.csv`);
    writeFileSync(
      listFile,
      ['member_id,name', ...list.slice(0, 10), '', stranger, ...list.slice(10)].join('\n'),
    );
    const args = ['check-in', '--election', electionPath, '--token-file', tokenFile, '--file', listFile];
    const expected = (outcome: string) => [
      ...list.slice(0, 10).map((m, i) => `${i + 2}\t${m}\t${outcome}\tD-10-1`),
      `13\t${stranger}\tnot_eligible`,
      ...list.slice(10).map((m, i) => `${i + 14}\t${m}\t${outcome}\tD-10-1`),
    ];
    const first = await tsx('ingest/paper/cli.ts', ...args, '--url', ingest.base);
    expect(first.code).toBe(1); // a line was refused
    expect(first.stdout.trim().split('\n').map(withoutMessage)).toEqual(expected('checked_in'));
    expect(first.stderr).toContain('checked_in 20, not_eligible 1');
    for (const m of list) checkedIn.set(voterHash(keys.pepper, m), 'P-10-1');
    const again = await tsx('ingest/paper/cli.ts', ...args, '--url', ingest.base, '--concurrency', '3');
    expect(again.stdout.trim().split('\n').map(withoutMessage)).toEqual(expected('repeated'));
    expect(again.stderr).toContain('repeated 20, not_eligible 1');
  });

  it('counts check-ins by outcome', async () => {
    const metrics = await api(ingest.ops, 'GET', '/metrics');
    expect(metrics.body).toMatch(
      /saylau_paper_check_ins_total\{outcome="(checked_in|repeated|not_eligible)"\}/,
    );
  });

  it('holds exactly one paper issuance record per checked-in member, naming its precinct', async () => {
    const records = await readRecords(kafka, TOPICS.issuance, since, (v: Wire) => v?.election === index.id);
    const paper = records.map((r) => r.value).filter((v) => v.channel === 'paper');
    const byMember = new Map<string, Wire[]>();
    for (const v of paper) byMember.set(v.voterHash, [...(byMember.get(v.voterHash) ?? []), v]);
    expect(new Set(byMember.keys())).toEqual(new Set(checkedIn.keys()));
    for (const [hash, list] of byMember) {
      expect(list, hash).toHaveLength(1);
      const precinct = index.config.paperPrecincts.find((p) => p.id === list[0].precinct)!;
      expect(list[0]).toMatchObject({
        precinct: checkedIn.get(hash),
        blindedHash: `paper:${checkedIn.get(hash)}`,
        district: precinct.district,
      });
    }
  });

  it('tells the channels apart after Redis lost everything (the index rebuilt from Kafka)', async () => {
    const redis = new Redis({ host: config.redis.host, port: config.redis.port });
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
    const [first, second] = index.config.paperPrecincts.filter((p) => p.district === TWIN_DISTRICT);
    const [chair] = officialsAt('P-10-1');
    // 503 rebuilding until the follower has replayed the log, then the log's answer.
    const send = (official: Official, member: string) => () =>
      checkIn(ingest.base, index.id, official.token, member);
    expect(outcomeOf(await untilFinal(send(officialsAt(second!.id)[0]!, held.twin)))).toBe(
      'already_checked_in',
    );
    expect(outcomeOf(await untilFinal(send(officialsAt(first!.id)[1]!, held.twin)))).toBe('repeated');
    expect(outcomeOf(await untilFinal(send(chair!, held.online)))).toBe('already_issued_online');
    await expect(client.credential(held.paper, 'D-10-1')).rejects.toThrow(/409 .*checked_in_on_paper/);
  });
});
