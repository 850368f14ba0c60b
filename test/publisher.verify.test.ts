/**
 * Promise 4 (verifiability), on constructed results: what the publisher
 * writes verifies, and each way of breaking it — a tampered, removed or
 * reordered snapshot, a wrong Merkle root, totals that do not add up — is
 * caught by `verify` and named. Against the head seen on an earlier run
 * (issue 14): a rolled-back head, a truncated or forked chain, a counted
 * code that disappears, district keys that change, and a key other than the
 * pinned one each fail with their own code; a chain that grows passes.
 */
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../common/canonical.js';
import { loadElection, sampleRollCounts } from '../election/index.js';
import { isPublisherError, type PublisherErrorCode } from '../publisher/errors.js';
import { signKeyStatement } from '../publisher/key-statement.js';
import { codesFileText, merkleRoot } from '../publisher/merkle.js';
import { signSnapshot, snapshotHash } from '../publisher/signer.js';
import type { Snapshot, SnapshotIndex } from '../publisher/snapshot.js';
import { buildSnapshot } from '../publisher/snapshot-builder.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';
import { publishedFiles, type SeenHead, verifyPublished } from '../publisher/verify.js';
import {
  constructedResults,
  fakeCode,
  fakeDistrictKeys,
  fixtureStations,
  fixtureTerms,
  publishConstructedChain,
} from './publisher.fixtures.js';

const index = loadElection('sample');
let dir: string;
let privateKey: KeyObject;
let spki: string;
/** The CLI's state file (pinned key, head seen), outside the published directory. */
let stateFile: string;

const publishChain = (
  count: number,
  into = dir,
  vary?: Parameters<typeof publishConstructedChain>[4],
): Promise<void> => publishConstructedChain(into, index, privateKey, count, vary);

async function expectCaught(code: PublisherErrorCode, message: RegExp, seen?: SeenHead): Promise<void> {
  const error = await verifyPublished(publishedFiles(dir), { spki, seen }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isPublisherError(error), String(error)).toBe(true);
  expect((error as Error & { code: string }).code).toBe(code);
  expect((error as Error).message).toMatch(message);
}

const readSnapshot = async (seq: number): Promise<Snapshot> =>
  JSON.parse(await readFile(join(dir, 'snapshots', `${seq}.json`), 'utf8')) as Snapshot;
const writeSnapshot = (s: Snapshot) => writeFile(join(dir, 'snapshots', `${s.seq}.json`), JSON.stringify(s));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'saylau-publisher-'));
  stateFile = join(await mkdtemp(join(tmpdir(), 'saylau-verify-state-')), 'verify.json');
  const pair = generateKeyPairSync('ed25519');
  privateKey = pair.privateKey;
  spki = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
  await publishChain(3);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(dirname(stateFile), { recursive: true, force: true });
});

describe('verify', () => {
  it('accepts an untouched chain and reports its head', async () => {
    const report = await verifyPublished(publishedFiles(dir), { spki });
    expect(report).toMatchObject({ election: index.id, snapshots: 3 });
    expect(report.head).toMatch(/^[0-9a-f]{64}$/);
  });

  it('catches a tampered snapshot (one count changed)', async () => {
    const s = await readSnapshot(2);
    const race = s.races[0]!;
    const bumped = JSON.parse(JSON.stringify(s)) as {
      races: { total: { candidates: { online: number }[] } }[];
    };
    bumped.races[0]!.total.candidates[0]!.online += 1;
    expect(race.id).toBe('R-NAT');
    await writeSnapshot(bumped as unknown as Snapshot);
    await expectCaught('bad_signature', /snapshot 2: the signature does not verify/);
  });

  it('catches a removed snapshot', async () => {
    await rm(join(dir, 'snapshots', '2.json'));
    await expectCaught('snapshot_missing', /snapshot 2 \(snapshots\/2\.json\) is missing/);
  });

  it('catches a reordered chain (two snapshots swapped)', async () => {
    await rename(join(dir, 'snapshots', '2.json'), join(dir, 'snapshots', 'x.json'));
    await rename(join(dir, 'snapshots', '3.json'), join(dir, 'snapshots', '2.json'));
    await rename(join(dir, 'snapshots', 'x.json'), join(dir, 'snapshots', '3.json'));
    await expectCaught('broken_chain', /snapshots\/2\.json holds snapshot 3/);
  });

  it('catches a wrong Merkle root (codes file swapped for another set of the same size)', async () => {
    const s = await readSnapshot(2);
    const other = Array.from({ length: s.codes.count }, (_, i) => fakeCode(`other:${i}`)).sort();
    await writeFile(join(dir, 'codes', '2.txt'), codesFileText(other));
    await expectCaught('merkle_mismatch', /snapshot 2: the Merkle root of codes\/2\.txt is not/);
  });

  it('catches a signed snapshot whose Merkle root does not match its codes', async () => {
    // The publisher itself is wrong here: the signature is fine, the root is not.
    const s = await readSnapshot(3);
    const { signature: _s, ...unsigned } = s;
    await writeSnapshot(
      signSnapshot({ ...unsigned, codes: { ...s.codes, merkleRoot: merkleRoot([]) } }, privateKey),
    );
    await writeFile(join(dir, 'latest.json'), await readFile(join(dir, 'snapshots', '3.json')));
    await expectCaught('merkle_mismatch', /snapshot 3: the Merkle root/);
  });

  it('catches signed totals that do not add up', async () => {
    const s = await readSnapshot(1);
    const { signature: _s, ...unsigned } = s;
    const broken = JSON.parse(JSON.stringify(unsigned)) as typeof unsigned & {
      races: { total: { valid: number } }[];
    };
    broken.races[0]!.total.valid += 1;
    await writeSnapshot(signSnapshot(broken, privateKey));
    await expectCaught('totals_mismatch', /snapshot 1: race R-NAT: valid \d+ ≠ Σ counted candidates/);
  });

  it('catches a latest.json that is not the newest snapshot', async () => {
    await writeFile(join(dir, 'latest.json'), await readFile(join(dir, 'snapshots', '2.json')));
    await expectCaught('broken_chain', /latest\.json says 2, but snapshot 3 exists/);
  });

  it('catches district turnout that does not add up to its region (signed all the same)', async () => {
    const s = await readSnapshot(3);
    const { signature: _s, ...unsigned } = s;
    const busy = s.turnout.districts!.findIndex((d) => d.castOnline > 0);
    const moved = structuredClone(unsigned) as unknown as {
      turnout: { districts: { castOnline: number }[] };
    };
    moved.turnout.districts[busy]!.castOnline -= 1;
    const tampered = signSnapshot(moved as unknown as typeof unsigned, privateKey);
    await writeSnapshot(tampered);
    await writeFile(join(dir, 'latest.json'), JSON.stringify(tampered));
    const { region } = s.turnout.districts![busy]!;
    await expectCaught(
      'totals_mismatch',
      new RegExp(`snapshot 3: turnout ${region} castOnline: \\d+ ≠ Σ its districts \\d+`),
    );
    // v5 lists every region's districts: an emptied list (nothing to add up) is not a pass.
    const emptied = signSnapshot(
      { ...unsigned, turnout: { ...unsigned.turnout, districts: [] } },
      privateKey,
    );
    await writeSnapshot(emptied);
    await writeFile(join(dir, 'latest.json'), JSON.stringify(emptied));
    // As its publisher would list it, so that only the totals can catch it.
    const indexPath = join(dir, 'snapshots', 'index.json');
    const listed = JSON.parse(await readFile(indexPath, 'utf8')) as SnapshotIndex;
    const [head, ...rest] = listed.snapshots;
    const entries = [{ ...head!, hash: snapshotHash(emptied) }, ...rest];
    await writeFile(indexPath, JSON.stringify({ ...listed, snapshots: entries }));
    const first = s.turnout.regions[0]!.code;
    await expectCaught(
      'totals_mismatch',
      new RegExp(`snapshot 3: turnout ${first}: no districts listed for the region`),
    );
  });

  it('catches a snapshots/index.json entry that is not its snapshot, and a missing index', async () => {
    const path = join(dir, 'snapshots', 'index.json');
    const text = await readFile(path, 'utf8');
    const index = JSON.parse(text) as SnapshotIndex;
    expect(index.snapshots.map((e) => e.seq)).toEqual([3, 2, 1]);
    const tampered = structuredClone(index) as unknown as { snapshots: { hash: string }[] };
    tampered.snapshots[1]!.hash = createHash('sha256').update('another snapshot 2').digest('hex');
    await writeFile(path, JSON.stringify(tampered));
    await expectCaught('index_mismatch', /snapshots\/index\.json: entry 1 is not snapshot 2/);
    await rm(path);
    await expectCaught('index_mismatch', /snapshots\/index\.json is missing/);
  });

  it('exits non-zero from the CLI, naming the problem', async () => {
    await rm(join(dir, 'codes', '3.txt'));
    const run = promisify(execFile);
    const ok = await run('npx', [
      'tsx',
      'publisher/verify-cli.ts',
      dir,
      '--key',
      spki,
      '--state',
      stateFile,
    ]).then(
      () => 0,
      (e: { code: number; stderr: string }) => e,
    );
    expect(ok).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/verify: snapshot_missing: snapshot 3: codes\/3\.txt/),
    });
  });
});

/** `npm run verify` as an auditor runs it: exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)('npx', [
    'tsx',
    'publisher/verify-cli.ts',
    dir,
    '--state',
    stateFile,
    ...args,
  ]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

const headOf = async (seq: number): Promise<SeenHead> => ({
  seq,
  hash: snapshotHash(await readSnapshot(seq)),
});

describe('verify against the head seen before', () => {
  it('passes a chain that grows from the head seen before', async () => {
    const seen = await headOf(3);
    await publishChain(5);
    const report = await verifyPublished(publishedFiles(dir), { spki, seen });
    expect(report).toMatchObject({ snapshots: 5, head: snapshotHash(await readSnapshot(5)) });
    // The same head again (nothing new published) passes too.
    await expect(
      verifyPublished(publishedFiles(dir), { spki, seen: await headOf(5) }),
    ).resolves.toMatchObject({
      snapshots: 5,
    });
  });

  it('names a rolled-back head: latest.json points back while the newer snapshot is still published', async () => {
    const seen = await headOf(3);
    await writeFile(join(dir, 'latest.json'), await readFile(join(dir, 'snapshots', '2.json')));
    await expectCaught(
      'rolled_back_head',
      /latest\.json says 2, older than snapshot 3 .* still published/,
      seen,
    );
  });

  it('names a truncated chain: a mirror serves the chain only up to an older snapshot', async () => {
    const seen = await headOf(3);
    for (const f of ['snapshots/3.json', 'snapshots/3.csv', 'codes/3.txt']) await rm(join(dir, f));
    await writeFile(join(dir, 'latest.json'), await readFile(join(dir, 'snapshots', '2.json')));
    await expectCaught('truncated_chain', /the chain ends at snapshot 2, without snapshot 3/, seen);
  });

  it('names a forked chain: another chain, validly signed, under the same key', async () => {
    const seen = await headOf(3);
    await rm(dir, { recursive: true, force: true });
    await publishChain(4, dir, () => ({ salt: 'fork' }));
    await expectCaught('forked_chain', /snapshot 3 served now is not snapshot 3/, seen);
  });

  it('names a code that is counted in one snapshot and gone from the next', async () => {
    await rm(dir, { recursive: true, force: true });
    // Snapshot 3 counts more ballots than 2, but not the same ones.
    await publishChain(3, dir, (seq) => (seq === 3 ? { salt: 'other' } : {}));
    const two = (await readFile(join(dir, 'codes', '2.txt'), 'utf8')).split('\n').filter(Boolean);
    const three = new Set((await readFile(join(dir, 'codes', '3.txt'), 'utf8')).split('\n'));
    const gone = two.find((c) => !three.has(c))!;
    await expectCaught(
      'code_disappeared',
      new RegExp(`^code ${gone} is counted in snapshot 2 but not in snapshot 3$`),
    );
  });

  it('names district keys that change mid-election', async () => {
    await rm(dir, { recursive: true, force: true });
    const keys = fakeDistrictKeys(index);
    const swapped = keys.map((k, i) => (i === 1 ? { ...k, sha256: 'f'.repeat(64) } : k));
    await publishChain(3, dir, (seq) => (seq === 3 ? { keys: swapped } : {}));
    await expectCaught(
      'district_keys_changed',
      new RegExp(`snapshot 3: district ${keys[1]!.id}'s key changed .* since snapshot 2`),
    );
  });

  it('checks keys.json against the snapshots', async () => {
    const store = new SnapshotStore(dir);
    await store.open();
    const keys = fakeDistrictKeys(index);
    await store.publishKeyStatement(signKeyStatement(index.id, keys, privateKey));
    await expect(verifyPublished(publishedFiles(dir), { spki })).resolves.toMatchObject({ snapshots: 3 });
    // A second start with other keys is refused, and a replaced file is caught by verify.
    const other = keys.map((k, i) => (i === 0 ? { ...k, sha256: '0'.repeat(64) } : k));
    const changed = signKeyStatement(index.id, other, privateKey);
    await expect(store.publishKeyStatement(changed)).rejects.toMatchObject({ code: 'district_keys_changed' });
    await writeFile(join(dir, 'keys.json'), JSON.stringify(changed));
    await expectCaught('district_keys_changed', /keys\.json and the snapshots differ/);
  });
});

describe('verify CLI: pinned key and state file', () => {
  const manifest = (key: string) =>
    writeFile(
      join(dir, 'elections', `${index.id}.json`),
      JSON.stringify({ id: index.id, snapshotKey: { alg: 'Ed25519', spki: key } }),
    );

  it('pins on first use (loudly, with the fingerprint), then refuses another key and a rolled-back head', async () => {
    await mkdir(join(dir, 'elections'));
    await manifest(spki);
    const first = await cli();
    expect(first.code, first.stderr).toBe(0);
    const fingerprint = createHash('sha256').update(Buffer.from(spki, 'base64url')).digest('hex');
    expect(first.stderr).toContain('WARNING: no key was pinned');
    expect(first.stderr).toContain(`pinned key fingerprint (SHA-256 of its SPKI DER): ${fingerprint}`);
    expect(first.stdout).toMatch(/^ok: 3 snapshot\(s\) .* first check of this chain/);
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(state.elections[index.id]).toMatchObject({ keyFingerprint: fingerprint, head: { seq: 3 } });

    await publishChain(4);
    const grown = await cli();
    expect(grown).toMatchObject({ code: 0, stderr: '' });
    expect(grown.stdout).toContain('grew from snapshot 3 to 4');

    // The site now publishes another key: refused, whether it is served or given.
    const other = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64url');
    await manifest(other);
    expect(await cli()).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^verify: key_mismatch: elections\/.* publishes snapshot key/),
    });
    await manifest(spki);
    expect(await cli('--key', other)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^verify: key_mismatch: --key has fingerprint/),
    });

    await writeFile(join(dir, 'latest.json'), await readFile(join(dir, 'snapshots', '2.json')));
    expect(await cli()).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^verify: rolled_back_head: latest\.json says 2, older than snapshot 4/),
    });
  });

  it('pins a --key given on first use, and refuses a target without a key when none is pinned', async () => {
    expect(await cli()).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^verify: key_invalid: no key pinned/),
    });
    const given = await cli('--key', spki);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).toContain('pinned the --key given');
    // Later runs need no --key: the pinned one is used.
    expect(await cli()).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('snapshots', () => {
  it('add up: valid totals exclude removed candidates, regions sum to the race, codes to ballots', async () => {
    const s = await readSnapshot(3);
    for (const race of s.races) {
      const removed = new Set(race.candidates.filter((c) => c.status === 'removed').map((c) => c.id));
      const valid = race.total.candidates.filter((c) => !removed.has(c.id)).reduce((n, c) => n + c.total, 0);
      expect(race.total.valid).toBe(valid);
      for (const [i, c] of race.total.candidates.entries()) {
        expect(c.total).toBe(race.regions.reduce((n, r) => n + r.total.candidates[i]!.total, 0));
      }
    }
    expect(s.codes.count).toBe(120);
    expect(s.turnout.total.castOnline).toBe(120);
    expect(s.turnout.total.castPaper).toBe(10);
    expect(s.reporting).toEqual({ precincts: index.config.paperPrecincts.length, reported: 1 });
  });

  it('state the closing time, the interval, about, and district turnout adding up to each region (v5)', async () => {
    const s = await readSnapshot(3);
    expect(s.v).toBe(5);
    expect(s.election).toEqual({
      id: index.id,
      names: index.config.names,
      closes: index.config.closes,
      snapshotIntervalSec: 1800,
      about: index.config.about,
    });
    const districts = s.turnout.districts!;
    expect(districts.map((d) => [d.id, d.region])).toEqual(
      index.config.districts.map((d) => [d.id, d.region]),
    );
    const roll = sampleRollCounts(index);
    for (const d of districts) expect(d.roll, d.id).toBe(roll.get(d.id));
    for (const r of s.turnout.regions) {
      const mine = districts.filter((d) => d.region === r.code);
      for (const field of [
        'roll',
        'issuedOnline',
        'issuedPaper',
        'castOnline',
        'castPaper',
        'precincts',
      ] as const)
        expect(
          mine.reduce((n, d) => n + d[field], 0),
          `${r.code} ${field}`,
        ).toBe(r[field]);
    }
    // The one accepted protocol's precinct and paper ballots are in its own district.
    const accepted = s.precincts!.find((p) => p.status === 'accepted')!;
    const own = districts.find((d) => d.id === accepted.district)!;
    expect([own.precinctsReported, own.castPaper]).toEqual([1, accepted.issued]);
  });

  it('are listed in snapshots/index.json, rebuilt from the files when missing or behind at start', async () => {
    const path = join(dir, 'snapshots', 'index.json');
    const written = await readFile(path, 'utf8');
    const index = JSON.parse(written) as SnapshotIndex;
    const chain = await Promise.all([3, 2, 1].map(readSnapshot));
    expect(index.snapshots).toEqual(
      chain.map((s) => ({
        seq: s.seq,
        takenAt: s.takenAt,
        hash: snapshotHash(s),
        prevHash: s.prevHash,
        codes: s.codes.count,
        final: null,
      })),
    );
    // Each entry's hash is the next snapshot's prevHash.
    expect(index.snapshots[1]!.hash).toBe(chain[0]!.prevHash);
    await rm(path);
    await new SnapshotStore(dir).open();
    expect(await readFile(path, 'utf8')).toBe(written);
    // A crash between a snapshot and its index entry: the entry is added from the file.
    await writeFile(path, JSON.stringify({ ...index, snapshots: index.snapshots.slice(1) }));
    await new SnapshotStore(dir).open();
    expect(await readFile(path, 'utf8')).toBe(written);
  });

  it('are never rewritten: publishing an existing seq fails', async () => {
    const store = new SnapshotStore(dir);
    const head = await store.open();
    expect(head.seq).toBe(3);
    const input = constructedResults(index, 10);
    const again = signSnapshot(
      buildSnapshot(
        index,
        input,
        { seq: 3, prevHash: null, takenAtMs: 0 },
        fakeDistrictKeys(index),
        fixtureStations(index),
        fixtureTerms(index),
      ),
      privateKey,
    );
    await expect(store.publish(again, input.codes)).rejects.toMatchObject({ code: 'store_failed' });
    await expect(verifyPublished(publishedFiles(dir), { spki })).resolves.toMatchObject({ snapshots: 3 });
  });

  it('have an RFC 6962 Merkle root (split at the largest power of two below n)', () => {
    const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
    const mth = (d: string[]): Buffer => {
      if (d.length === 0) return sha();
      if (d.length === 1) return sha(Buffer.from([0]), Buffer.from(d[0]!, 'ascii'));
      let k = 1;
      while (k * 2 < d.length) k *= 2;
      return sha(Buffer.from([1]), mth(d.slice(0, k)), mth(d.slice(k)));
    };
    expect(merkleRoot([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (let n = 1; n <= 17; n++) {
      const codes = Array.from({ length: n }, (_, i) => fakeCode(`m${i}`)).sort();
      expect(merkleRoot(codes), `n=${n}`).toBe(mth(codes).toString('hex'));
    }
  });

  it('have a canonical form with sorted keys, no whitespace and no signature', () => {
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: true })).toBe(
      '{"a":true,"b":[1,{"c":null,"d":"x"}]}',
    );
    expect(() => canonicalJson({ share: 0.5 })).toThrow(/not a safe integer/);
  });
});
