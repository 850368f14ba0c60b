/**
 * Constructed results for the pure publisher tests: a deterministic set of
 * online ballots over a few districts of the sample election, with their
 * tally, turnout and codes, and one paper precinct's protocol — consistent
 * the way reconciled ClickHouse results are.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { ElectionIndex } from '../election/index.js';
import { sampleRollCounts } from '../election/index.js';
import type { DistrictKeyFingerprint } from '../publisher/district-keys.js';
import type { ResultsInput, TallyRow, TurnoutRow } from '../publisher/results-source.js';
import { signSnapshot } from '../publisher/signer.js';
import { buildSnapshot } from '../publisher/snapshot-builder.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A 26-character base32 code, as ingest makes them (DESIGN §3). */
export function fakeCode(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < 26; i++) out += BASE32[digest[i]! & 31];
  return out;
}

export function rollByRegion(index: ElectionIndex): Map<string, number> {
  const out = new Map<string, number>();
  for (const [district, n] of sampleRollCounts(index)) {
    const region = index.district(district)!.region;
    out.set(region, (out.get(region) ?? 0) + n);
  }
  return out;
}

export function constructedResults(index: ElectionIndex, ballots: number, salt = 'a'): ResultsInput {
  const districts = index.config.districts.slice(0, 6);
  const tally = new Map<string, TallyRow>();
  const turnout = new Map<string, { -readonly [K in keyof TurnoutRow]: TurnoutRow[K] }>();
  const codes: string[] = [];
  for (let i = 0; i < ballots; i++) {
    const d = districts[i % districts.length]!;
    codes.push(fakeCode(`${salt}:${i}`));
    const t = turnout.get(d.id) ?? {
      region: d.region,
      district: d.id,
      issuedOnline: 0,
      issuedPaper: 0,
      castOnline: 0,
    };
    t.castOnline += 1;
    t.issuedOnline += i % 5 === 0 ? 2 : 1; // some credentials are never used
    turnout.set(d.id, t);
    for (const race of index.racesOf(d.id)) {
      const candidate = race.candidates[(i * 7 + race.id.length) % race.candidates.length]!;
      const key = `${race.id}/${d.id}/${candidate.id}`;
      const row = tally.get(key) ?? {
        race: race.id,
        region: d.region,
        district: d.id,
        candidate: candidate.id,
        votes: 0,
      };
      tally.set(key, { ...row, votes: row.votes + 1 });
    }
  }
  const precinct = index.config.paperPrecincts[0]!;
  const pd = index.district(precinct.district)!;
  const t = turnout.get(pd.id) ?? {
    region: pd.region,
    district: pd.id,
    issuedOnline: 0,
    issuedPaper: 0,
    castOnline: 0,
  };
  t.issuedPaper += 12;
  turnout.set(pd.id, t);
  const paperVotes = index.racesOf(pd.id).map((race) => ({
    race: race.id,
    district: pd.id,
    candidate: race.candidates[0]!.id,
    votes: 10,
  }));
  return {
    tally: [...tally.values()],
    paperVotes,
    paperPrecincts: [{ precinct: precinct.id, district: pd.id, ballots: 10 }],
    turnout: [...turnout.values()],
    codes: codes.sort(),
    roll: rollByRegion(index),
    events: [],
  };
}

/**
 * Stand-in district key fingerprints for an election whose RSA keys a test
 * does not make (one per district, config order): what the publisher would
 * take from the manifest.
 */
export function fakeDistrictKeys(index: ElectionIndex): { id: string; sha256: string }[] {
  return index.config.districts.map((d) => ({
    id: d.id,
    sha256: createHash('sha256').update(`key:${index.id}:${d.id}`).digest('hex'),
  }));
}

/**
 * Publishes constructed snapshots into `dir` up to `count`, continuing its
 * chain; deterministic (same arguments, same bytes). `vary` changes one
 * snapshot's input or district keys to break a rule on purpose.
 */
export async function publishConstructedChain(
  dir: string,
  index: ElectionIndex,
  privateKey: KeyObject,
  count: number,
  vary: (seq: number) => { salt?: string; keys?: DistrictKeyFingerprint[] } = () => ({}),
): Promise<void> {
  const store = new SnapshotStore(dir);
  await store.open();
  for (let seq = store.head.seq + 1; seq <= count; seq++) {
    const { salt, keys } = vary(seq);
    const input = constructedResults(index, 40 * seq, salt);
    const unsigned = buildSnapshot(
      index,
      input,
      { seq, prevHash: store.head.hash, takenAtMs: Date.UTC(2020, 4, 17, 8) + seq * 1_800_000 },
      keys ?? fakeDistrictKeys(index),
    );
    await store.publish(signSnapshot(unsigned, privateKey), input.codes);
  }
}
