/**
 * The ledger under Kafka faults (issue 13, defects 1, 2 and 4), through real
 * ingest processes, real brokers frozen (SIGSTOP) and killed (SIGKILL):
 *
 * 1. An acknowledged ballot never vanishes: voters cast, retrying the same
 *    ballot like the web client (some changing it on the retry), while one
 *    broker is frozen for 25 s and another is killed; every receipt is then
 *    the first record of its ballotId in Kafka, with the acknowledged choices.
 * 2. One credential never puts two different ballots into Kafka: a cast whose
 *    produce gets no answer keeps the credential for that ballot, so a
 *    changed ballot is refused and the same one goes through later (only a
 *    produce that provably never left ingest frees it for another).
 * 3. No voter is locked out: an issuance whose record never reached Kafka
 *    (ingest killed mid-produce while the brokers are down) expires, and the
 *    voter's new device gets a credential.
 *
 * Before the ledger (kafkajs's idempotent producer racing a timeout,
 * compare-and-delete after any failed produce, pending keys without expiry)
 * (1) lost receipts, (2) accepted the changed ballot with 201 next to the
 * first, and (3) answered 409 for good.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotIdOf } from '../common/ballot-id.js';
import { TOPICS } from '../common/records.js';
import type { ElectionIndex } from '../election/index.js';
import {
  type ApiResponse,
  api,
  childPids,
  type Ingest,
  offsetsOf,
  prepareElection,
  readRecords,
  startIngest,
  VoterClient,
  validSelections,
} from './ingest.harness.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient, restore, stack } from './support/stack.js';

const PORT = testPort(18_487);
const ELECTION = `ledger-broker-faults-${Date.now().toString(36)}`;
const kafka = kafkaClient('ledger-broker-faults-test');

let ingest: Ingest;
let electionPath: string;
let index: ElectionIndex;
let client: VoterClient;
let members: { memberId: string; district: string }[] = [];
let nextMember = 0;

type Credential = { message: string; signature: string; district: string };

const ballotOf = (c: Credential, pick = 0) => ({
  election: index.id,
  district: c.district,
  credential: { message: c.message, signature: c.signature },
  selections: validSelections(index, c.district, pick),
});

/** The selections as a ballot record holds them: races sorted, each `[race, …sorted choices]`. */
const recorded = (selections: { race: string; choices: string[] }[]): string =>
  JSON.stringify(
    [...selections]
      .sort((a, b) => (a.race < b.race ? -1 : a.race > b.race ? 1 : 0))
      .map((s) => [s.race, ...[...s.choices].sort()]),
  );

/** A request that may meet a dead ingest or a reset: a network error is an unknown outcome, status 0. */
async function attempt(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
  try {
    return await send();
  } catch {
    return { status: 0, body: null, headers: new Headers(), bytes: 0 };
  }
}

function pidOf(name: string): number {
  const pid = stack.pid(stack.service(name));
  if (pid === null) throw new Error(`${name} is not running`);
  return pid;
}

/** The broker (stack service name) leading `partition` of `topic`. */
async function leaderOf(topic: string, partition: number): Promise<string> {
  const admin = new Kafka({
    clientId: 'leader-probe',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const leader = meta.topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
    return `kafka-${leader}`;
  } finally {
    await admin.disconnect();
  }
}

function freshMember(): { memberId: string; district: string } {
  const member = members[nextMember++];
  if (member === undefined) throw new Error('out of roll members');
  return member;
}

async function startOurIngest(env: Record<string, string> = {}): Promise<Ingest> {
  return startIngest({ election: electionPath, port: PORT, processes: 2, env });
}

beforeAll(async () => {
  const prepared = await prepareElection(ELECTION, 2_000);
  index = prepared.index;
  electionPath = prepared.path;
  ingest = await startOurIngest();
  client = new VoterClient(ingest.base, index.id);
  const page = await api(ingest.base, 'GET', `/v1/dev/members?election=${index.id}&limit=500`);
  if (page.status !== 200) throw new Error(`dev members ${page.status} ${JSON.stringify(page.body)}`);
  members = page.body.members;
}, 300_000);

afterAll(async () => {
  await restore();
  await ingest?.stop();
}, 300_000);

describe('the ledger under Kafka faults', () => {
  it('loses no acknowledged ballot while a broker is frozen for 25 s and another is killed', async () => {
    const voters = await Promise.all(
      Array.from({ length: 80 }, async () => {
        const m = freshMember();
        return client.credential(m.memberId, m.district);
      }),
    );
    const before = await offsetsOf(kafka, TOPICS.ballots);
    const acked = new Map<string, string>(); // ballotId → selections acknowledged
    let outcomes: number[] = [];
    const frozen = 'kafka-2';
    const killed = 'kafka-3';
    try {
      const voting = voters.map(async (credential, i) => {
        // Arrivals spread over the fault window; a third change their ballot when told to retry.
        await new Promise((r) => setTimeout(r, i * 300));
        // Told that the changed ballot is refused, they go back to the one they first sent.
        let pick = 0;
        let changed = false;
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          const body = ballotOf(credential, pick);
          const res = await attempt(() => api(ingest.base, 'POST', '/v1/ballots', body));
          if (res.status === 201 || res.status === 200) {
            acked.set(res.body.ballotId, recorded(body.selections));
            return res.status;
          }
          if (res.status === 409) {
            if (pick === 0) return 409;
            pick = 0;
            continue;
          }
          if (!changed && i % 3 === 0) {
            changed = true;
            pick = 1;
          }
          await new Promise((r) => setTimeout(r, 1_000));
        }
        return 0;
      });
      await new Promise((r) => setTimeout(r, 2_000));
      process.kill(pidOf(frozen), 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 8_000));
      await stack.stop(killed, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 17_000));
      process.kill(pidOf(frozen), 'SIGCONT');
      await restore();
      outcomes = await Promise.all(voting);
    } finally {
      const pid = stack.pid(stack.service(frozen));
      if (pid !== null) process.kill(pid, 'SIGCONT');
      await restore();
    }

    const records = await readRecords(kafka, TOPICS.ballots, before, (r) => r.election === index.id);
    const first = new Map<string, string>();
    const hashes = new Map<string, Set<string>>();
    for (const { value } of records) {
      if (!first.has(value.ballotId)) first.set(value.ballotId, JSON.stringify(value.selections));
      hashes.set(value.ballotId, (hashes.get(value.ballotId) ?? new Set()).add(value.ballotHash));
    }
    const lost = [...acked.keys()].filter((id) => !first.has(id));
    expect(lost).toEqual([]);
    for (const [id, selections] of acked) expect(first.get(id)).toBe(selections);
    expect([...hashes].filter(([, h]) => h.size > 1).map(([id]) => id)).toEqual([]);
    // And everyone got through in the end, retrying as the web client does.
    expect(outcomes.filter((s) => s !== 200 && s !== 201)).toEqual([]);
    expect(acked.size).toBe(voters.length);
  }, 300_000);

  it('never lets one credential put two different ballots into Kafka when a produce gets no answer', async () => {
    // Freeze the broker that leads the voter's partition. The produce usually goes out to it and
    // gets no answer; if ingest had to ask the frozen broker for metadata first, it never left.
    const m = freshMember();
    const c = await client.credential(m.memberId, m.district);
    const partitions = index.partitionsFor(index.district(c.district)!.region);
    expect(partitions).toHaveLength(1); // the sample gives each region one partition
    const leader = await leaderOf(TOPICS.ballots, partitions[0]!);
    const ballotId = ballotIdOf(Buffer.from(c.message, 'base64url'));
    const before = await offsetsOf(kafka, TOPICS.ballots);
    let first: ApiResponse;
    try {
      process.kill(pidOf(leader), 'SIGSTOP');
      first = await attempt(() => api(ingest.base, 'POST', '/v1/ballots', ballotOf(c, 0)));
    } finally {
      process.kill(pidOf(leader), 'SIGCONT');
    }
    expect({ status: first.status, code: first.body?.error?.code }).toEqual({
      status: 503,
      code: 'unavailable',
    });
    await restore();
    await new Promise((r) => setTimeout(r, 3_000));

    // The voter changes the ballot (the 2020 users did), retrying while told 503, then goes back
    // to the first one. While the first may still reach the log (its key pending or held, up to
    // INGEST_PENDING_TTL_MS), the changed one is neither taken nor refused for good.
    const cast = async (pick: number) => {
      let res = await attempt(() => api(ingest.base, 'POST', '/v1/ballots', ballotOf(c, pick)));
      for (let i = 0; i < 90 && (res.status === 503 || res.status === 0); i++) {
        await new Promise((r) => setTimeout(r, 1_000));
        res = await attempt(() => api(ingest.base, 'POST', '/v1/ballots', ballotOf(c, pick)));
      }
      return res;
    };
    const changed = await cast(1);
    let acknowledged: number;
    if (changed.status === 409) {
      // The first ballot is in the log: the credential stays with it, and it goes through now.
      expect(changed.body.error.code).toBe('credential_already_used');
      expect([200, 201]).toContain((await cast(0)).status);
      acknowledged = 0;
    } else {
      // The first never reached the log: the changed one is taken, and the first refused.
      expect([200, 201]).toContain(changed.status);
      expect((await cast(0)).status).toBe(409);
      acknowledged = 1;
    }
    // Late landings of the first produce have had time to happen; the log holds one ballot, the acknowledged one.
    await new Promise((r) => setTimeout(r, 10_000));
    const records = await readRecords(kafka, TOPICS.ballots, before, (r) => r.ballotId === ballotId);
    expect(new Set(records.map((r) => JSON.stringify(r.value.selections)))).toEqual(
      new Set([recorded(ballotOf(c, acknowledged).selections)]),
    );
  }, 300_000);

  it('lets a voter whose issuance never reached Kafka get a credential on a new device', async () => {
    const m = freshMember();
    const token = await client.login(m.memberId);
    const key = await client.districtKey(m.district);
    const lost = await client.blind(key);
    try {
      await Promise.all(stack.kafkaBrokers.map((b) => stack.stop(b.name)));
      // The first device asks; ingest dies (power cut) while the record is on its way.
      const asking = attempt(() =>
        api(
          ingest.base,
          'POST',
          '/v1/credentials',
          { election: index.id, blindedMessage: Buffer.from(lost.blindedMsg).toString('base64url') },
          { authorization: `Bearer ${token}` },
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      const supervisor = ingest.child.pid!;
      for (const pid of [supervisor, ...childPids(supervisor)]) process.kill(pid, 'SIGKILL');
      await asking;
    } finally {
      await restore();
    }
    ingest = await startOurIngest({ INGEST_PENDING_TTL_MS: '5000' });
    client = new VoterClient(ingest.base, index.id);

    // A new device: a new blinded message. The first never reached the log, so it must not bar this one.
    const device = await client.blind(await client.districtKey(m.district));
    const ask = () =>
      attempt(() =>
        api(
          ingest.base,
          'POST',
          '/v1/credentials',
          { election: index.id, blindedMessage: Buffer.from(device.blindedMsg).toString('base64url') },
          { authorization: `Bearer ${token}` },
        ),
      );
    let res = await ask();
    for (let i = 0; i < 30 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      res = await ask();
    }
    expect(res.status).toBe(200);
  }, 300_000);
});
