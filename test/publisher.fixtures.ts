/**
 * Constructed results for the pure publisher tests: a deterministic set of
 * online ballots over a few districts of the sample election, with their
 * tally, turnout and codes, and one paper precinct's protocol — consistent
 * the way reconciled ClickHouse results are.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { paperProtocol } from '../common/records.js';
import type { ElectionIndex, StationKeys } from '../election/index.js';
import { sampleRollCounts, stationKeyId } from '../election/index.js';
import { signProtocol } from '../ingest/paper/protocol.js';
import type { DistrictKeyFingerprint } from '../publisher/district-keys.js';
import type { ResultsInput, TallyRow, TurnoutRow } from '../publisher/results-source.js';
import { signSnapshot } from '../publisher/signer.js';
import { buildSnapshot, type PublishingTerms } from '../publisher/snapshot-builder.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A 26-character base32 code, as ingest makes them (DESIGN §3). */
export function fakeCode(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < 26; i++) out += BASE32[digest[i]! & 31];
  return out;
}

/** What the scheduler passes the builder besides results: the config's closing time, a 30-minute interval. */
export function fixtureTerms(index: ElectionIndex): PublishingTerms {
  return { closesAtMs: index.closesAt, snapshotIntervalSec: 1800 };
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
  const { keyId: _keyId, ...unsigned } = paperProtocol({
    election: index.id,
    region: pd.region,
    district: pd.id,
    precinct: precinct.id,
    version: 1,
    issued: 10,
    spoiled: 0,
    results: index
      .racesOf(pd.id)
      .flatMap((race) =>
        race.candidates.map((c, i) => ({ race: race.id, candidate: c.id, votes: i === 0 ? 10 : 0 })),
      ),
    keyId: '',
  });
  const signed = signProtocol(unsigned, fixtureStationKey(index, precinct.id));
  return {
    tally: [...tally.values()],
    paperProtocols: [{ ...signed, submittedBy: precinct.officials[0]!.id, at: Date.UTC(2020, 4, 17, 20) }],
    paperDissents: [],
    paperCheckIns: [
      { precinct: precinct.id, region: pd.region, district: pd.id, checkIns: 12, conflicted: 0 },
    ],
    turnout: [...turnout.values()],
    codes: codes.sort(),
    roll: new Map(sampleRollCounts(index)),
    events: [],
  };
}

/** A deterministic station key per precinct (Ed25519 from a fixed seed), so constructed chains repeat byte for byte. */
export function fixtureStationKey(index: ElectionIndex, precinct: string): KeyObject {
  const seed = createHash('sha256').update(`station:${index.id}:${precinct}`).digest();
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The public halves of {@link fixtureStationKey}: what the publisher reads from `public/precinct-keys.json`. */
export function fixtureStations(index: ElectionIndex): StationKeys {
  return new Map(
    index.config.paperPrecincts.map((p) => {
      const publicKey = createPublicKey(fixtureStationKey(index, p.id));
      const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
      return [p.id, { publicKey, spki, keyId: stationKeyId(publicKey) }] as const;
    }),
  );
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
      fixtureStations(index),
      fixtureTerms(index),
    );
    await store.publish(signSnapshot(unsigned, privateKey), input.codes);
  }
}
