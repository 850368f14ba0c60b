/**
 * One member, two channels, at the same instant (the issue's acceptance
 * line): for each of 1,000 distinct members an online credential request and
 * a paper check-in are fired together at two ingest processes. Never both
 * succeed; the refused one says which channel holds the member; and the log
 * agrees: each member's first issuance record in Kafka is the channel whose
 * request succeeded.
 */
import type { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOPICS } from '../common/records.js';
import {
  type ElectionIndex,
  type ElectionKeys,
  issueDevToken,
  readKeys,
  voterHash,
} from '../election/index.js';
import {
  type ApiResponse,
  api,
  forgetElection,
  type Ingest,
  offsetsOf,
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

const PORT = testPort(18_562);
const ELECTION = `paper-channels-${Date.now().toString(36)}`;
const MEMBERS = 1_000;
/** Members whose two requests are in flight at once. */
const WAVE = 50;
const kafka = kafkaClient('paper-channels-test');

let ingest: Ingest;
let index: ElectionIndex;
let keys: ElectionKeys;
let officials: Official[];

beforeAll(async () => {
  let path: string;
  ({ index, path } = await prepareElection(ELECTION, 20_000));
  keys = await readKeys(config.stackDir, index.id);
  officials = await officialsOf(index, keys);
  ingest = await startIngest({
    election: path,
    port: PORT,
    processes: 2,
    // One test address and few officials stand for a whole country's stations here.
    env: {
      INGEST_ISSUE_ADDRESS_PER_MIN: '0',
      INGEST_PAPER_OFFICIAL_PER_MIN: '1000000',
      INGEST_PAPER_OFFICIAL_BURST: '100000',
    },
  });
}, 300_000);

afterAll(async () => {
  await ingest?.stop();
  await forgetElection(config, ELECTION);
});

interface Pair {
  readonly memberId: string;
  readonly voterHash: string;
  readonly official: Official;
  readonly voterToken: string;
  readonly blindedMessage: string;
}

/** Each member with an official of a precinct of their district, a voter token and a blinded message. */
async function preparePairs(): Promise<Pair[]> {
  const client = new VoterClient(ingest.base, index.id);
  const byDistrict = membersByDistrict(index, 20_000);
  const stations = [...new Set(officials.map((o) => o.district))];
  const districtKeys = new Map<string, webcrypto.CryptoKey>();
  const pairs: Pair[] = [];
  for (let round = 0; pairs.length < MEMBERS; round++) {
    for (const district of stations) {
      const memberId = byDistrict.get(district)?.[round];
      if (memberId === undefined || pairs.length >= MEMBERS) continue;
      const staff = officials.filter((o) => o.district === district);
      let key = districtKeys.get(district);
      if (key === undefined) {
        key = await client.districtKey(district);
        districtKeys.set(district, key);
      }
      const { blindedMsg } = await client.blind(key);
      pairs.push({
        memberId,
        voterHash: voterHash(keys.pepper, memberId),
        official: staff[round % staff.length]!,
        voterToken: await issueDevToken(keys, index, memberId),
        blindedMessage: Buffer.from(blindedMsg).toString('base64url'),
      });
    }
  }
  return pairs;
}

function online(pair: Pair): Promise<ApiResponse> {
  return api(
    ingest.base,
    'POST',
    '/v1/credentials',
    { election: index.id, blindedMessage: pair.blindedMessage },
    { authorization: `Bearer ${pair.voterToken}` },
  );
}

it('never lets one member have both an online credential and a paper check-in, and the log agrees', async () => {
  const pairs = await preparePairs();
  const since = await offsetsOf(kafka, TOPICS.issuance);
  const outcomes = new Map<string, { online: string; paper: string }>();
  for (let start = 0; start < pairs.length; start += WAVE) {
    await Promise.all(
      pairs.slice(start, start + WAVE).map(async (pair) => {
        // Both sent in the same tick: they race through two processes to the one ledger.
        const [onlineRes, paperRes] = await Promise.all([
          untilFinal(() => online(pair)),
          untilFinal(() => checkIn(ingest.base, index.id, pair.official.token, pair.memberId)),
        ]);
        outcomes.set(pair.voterHash, {
          online: onlineRes.status === 200 ? 'issued' : outcomeOf(onlineRes),
          paper: outcomeOf(paperRes),
        });
      }),
    );
  }

  const onlineWon = new Set<string>();
  const paperWon = new Set<string>();
  for (const [hash, o] of outcomes) {
    if (o.online === 'issued') {
      expect(o.paper, hash).toBe('already_issued_online');
      onlineWon.add(hash);
    } else {
      expect(o.online, hash).toBe('checked_in_on_paper');
      // repeated: its first answer was a 503 and the resend found it recorded.
      expect(['checked_in', 'repeated'], hash).toContain(o.paper);
      paperWon.add(hash);
    }
  }
  expect(onlineWon.size + paperWon.size).toBe(MEMBERS);

  // The first issuance record of each member (a member's records share one partition).
  const records = await readRecords(kafka, TOPICS.issuance, since, (v: Wire) => v?.election === index.id);
  const first = new Map<string, { offset: bigint; channel: string }>();
  for (const r of records) {
    const seen = first.get(r.value.voterHash);
    if (seen === undefined || BigInt(r.offset) < seen.offset) {
      first.set(r.value.voterHash, { offset: BigInt(r.offset), channel: r.value.channel });
    }
  }
  const firstOnline = new Set([...first].filter(([, f]) => f.channel === 'online').map(([h]) => h));
  const firstPaper = new Set([...first].filter(([, f]) => f.channel === 'paper').map(([h]) => h));
  expect(firstOnline).toEqual(onlineWon);
  expect(firstPaper).toEqual(paperWon);
  console.log(`paper.channels: online first ${onlineWon.size}, paper first ${paperWon.size}`);
}, 600_000);
