/**
 * Verifies a published results directory or URL (DESIGN §1 promise 4):
 * every snapshot from 1 to `latest.json`'s seq is present, well-formed,
 * signed by the election's snapshot key, linked to the one before by
 * `prevHash`, adds up (totals.ts), and its codes file has the stated count
 * and Merkle root; its CSV is the one the JSON implies; every code it
 * counts is still counted in the next; its district key fingerprints are
 * those of the snapshot before, of `keys.json` and of the published
 * manifest. Given the head seen on an earlier run, the chain must still
 * hold it (no rolled-back head, truncated or forked chain). A final
 * snapshot (v4) must state the winners its counts give, the next round and
 * the changes since the previous final, and every district protocol of the
 * round must be published, signed by the snapshot key and be the one the
 * snapshot implies (JSON and printable HTML). `snapshots/index.json`
 * (required once the latest is v5) lists exactly the chain, newest first,
 * each entry what its snapshot file says. Stops at the first problem with a
 * PublisherError naming it.
 *
 * The key always comes from the caller, pinned (verify-trust.ts): a key
 * read from the target itself would only prove the target agrees with
 * itself. A published manifest whose key differs from the pinned one fails.
 */
import type { KeyObject } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../common/canonical.js';
import { precinctsCsv, snapshotCsv } from './csv.js';
import {
  type DistrictKeyFingerprint,
  districtKeyFingerprints,
  districtKeysDiffer,
  spkiSha256,
} from './district-keys.js';
import { PublisherError } from './errors.js';
import { finalResult } from './final.js';
import { KEYS_PATH, readKeyStatement } from './key-statement.js';
import { merkleRoot, parseCodesFile } from './merkle.js';
import { type DistrictProtocol, districtProtocols, protocolHtml, protocolJson } from './protocol.js';
import { publicKeyFromSpki, snapshotHash, verifyDocument, verifySnapshotSignature } from './signer.js';
import {
  finalPaths,
  LATEST_PATH,
  SNAPSHOT_INDEX_PATH,
  type Snapshot,
  type SnapshotIndexEntry,
  snapshotPaths,
} from './snapshot.js';
import { snapshotIndexEntry } from './snapshot-index.js';
import { snapshotShapeProblem } from './snapshot-schema.js';
import { checkTotals } from './totals.js';

/** Where published files are read from: a directory or a base URL. */
export interface PublishedFiles {
  /** The file's text, or `null` if it does not exist. */
  read(relative: string): Promise<string | null>;
  readonly describe: string;
}

export function publishedFiles(target: string): PublishedFiles {
  if (/^https?:\/\//.test(target)) {
    const base = target.endsWith('/') ? target : `${target}/`;
    return {
      describe: base,
      async read(relative) {
        const res = await fetch(new URL(relative, base));
        if (res.status === 404) return null;
        if (!res.ok) throw new PublisherError('snapshot_missing', `${relative}: HTTP ${res.status}`);
        return res.text();
      },
    };
  }
  return {
    describe: target,
    async read(relative) {
      try {
        return await readFile(join(target, relative), 'utf8');
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw cause;
      }
    },
  };
}

export interface VerifyOptions {
  /** Ed25519 public key, SPKI DER base64url: pinned by the caller (verify-trust.ts), never read from the target. */
  readonly spki: string;
  /** The head this verifier saw before: the chain must still hold it, and only have grown from it. */
  readonly seen?: SeenHead | null;
  /** Called after each snapshot passes. */
  readonly onSnapshot?: (seq: number) => void;
}

export interface SeenHead {
  readonly seq: number;
  /** Hex SHA-256 of that snapshot's canonical bytes. */
  readonly hash: string;
}

export interface VerifyReport {
  readonly election: string;
  readonly snapshots: number;
  /** SHA-256 of the newest snapshot's canonical bytes: quote it to pin the chain. */
  readonly head: string;
  readonly takenAt: string;
}

/** The published `latest.json`, parsed and shape-checked. */
export async function readLatest(files: PublishedFiles): Promise<Snapshot> {
  const text = await files.read(LATEST_PATH);
  if (text === null) throw new PublisherError('snapshot_missing', `${LATEST_PATH} is missing`);
  return parse(text, LATEST_PATH);
}

export async function verifyPublished(files: PublishedFiles, options: VerifyOptions): Promise<VerifyReport> {
  const latest = await readLatest(files);
  const key = publicKeyFromSpki(options.spki);
  const manifest = await readManifest(files, latest.election.id);
  if (manifest?.snapshotKey !== undefined && manifest.snapshotKey !== options.spki) {
    throw new PublisherError(
      'key_mismatch',
      `elections/${latest.election.id}.json publishes snapshot key ${fingerprint(manifest.snapshotKey)}, not the pinned ${fingerprint(options.spki)}`,
    );
  }
  let prev: Snapshot | null = null;
  let prevFinal: Snapshot | null = null;
  let prevCodes: readonly string[] = [];
  /** hashes[seq - 1]: to compare with the head seen before. */
  const hashes: string[] = [];
  /** What `snapshots/index.json` must say, oldest first. */
  const entries: SnapshotIndexEntry[] = [];
  for (let seq = 1; seq <= latest.seq; seq++) {
    const paths = snapshotPaths(seq);
    const text = await files.read(paths.json);
    if (text === null)
      throw new PublisherError('snapshot_missing', `snapshot ${seq} (${paths.json}) is missing`);
    const s = parse(text, paths.json);
    if (s.seq !== seq)
      throw new PublisherError('broken_chain', `${paths.json} holds snapshot ${s.seq}, not ${seq}`);
    if (!verifySnapshotSignature(s, key)) {
      throw new PublisherError('bad_signature', `snapshot ${seq}: the signature does not verify`);
    }
    if (s.election.id !== latest.election.id) {
      throw new PublisherError('broken_chain', `snapshot ${seq} is of election ${s.election.id}`);
    }
    const prevHash = hashes[seq - 2] ?? null;
    if (s.prevHash !== prevHash) {
      throw new PublisherError(
        'broken_chain',
        `snapshot ${seq}: prevHash ${s.prevHash} ≠ hash of snapshot ${seq - 1} (${prevHash})`,
      );
    }
    if (prev !== null && s.takenAt < prev.takenAt) {
      throw new PublisherError('broken_chain', `snapshot ${seq} was taken before snapshot ${seq - 1}`);
    }
    const keysChanged = prev === null ? null : districtKeysDiffer(prev.districtKeys, s.districtKeys);
    if (keysChanged !== null) {
      throw new PublisherError(
        'district_keys_changed',
        `snapshot ${seq}: ${keysChanged} since snapshot ${seq - 1}`,
      );
    }
    const problem = checkTotals(s);
    if (problem !== null) throw new PublisherError('totals_mismatch', `snapshot ${seq}: ${problem}`);
    const codes = await checkCodes(files, s);
    const gone = firstMissing(prevCodes, codes);
    if (gone !== null) {
      throw new PublisherError(
        'code_disappeared',
        `code ${gone} is counted in snapshot ${seq - 1} but not in snapshot ${seq}`,
      );
    }
    const csv = await files.read(paths.csv);
    if (csv === null)
      throw new PublisherError('snapshot_missing', `snapshot ${seq}: ${paths.csv} is missing`);
    if (csv !== snapshotCsv(s))
      throw new PublisherError('csv_mismatch', `snapshot ${seq}: ${paths.csv} differs from the JSON`);
    if (s.precincts !== undefined) {
      const table = await files.read(paths.precincts);
      if (table === null)
        throw new PublisherError('snapshot_missing', `snapshot ${seq}: ${paths.precincts} is missing`);
      if (table !== precinctsCsv(s))
        throw new PublisherError('csv_mismatch', `snapshot ${seq}: ${paths.precincts} differs from the JSON`);
    }
    if (s.final !== undefined) {
      await checkFinal(files, key, s, prevFinal);
      prevFinal = s;
    }
    prev = s;
    prevCodes = codes;
    hashes.push(snapshotHash(s));
    entries.push(snapshotIndexEntry(s, hashes.at(-1)));
    options.onSnapshot?.(seq);
  }
  const head = hashes[latest.seq - 1];
  if (prev === null || head === undefined)
    throw new PublisherError('snapshot_missing', 'no snapshots published');
  if (snapshotHash(latest) !== head || latest.signature !== prev.signature) {
    throw new PublisherError('broken_chain', `${LATEST_PATH} is not snapshot ${latest.seq}`);
  }
  await checkKeyStatement(files, key, prev, manifest);
  if (options.seen) await checkGrowsFrom(files, key, options.seen, latest.seq, hashes);
  if ((await files.read(snapshotPaths(latest.seq + 1).json)) !== null) {
    throw new PublisherError(
      'broken_chain',
      `${LATEST_PATH} says ${latest.seq}, but snapshot ${latest.seq + 1} exists`,
    );
  }
  await checkIndex(files, latest, entries);
  return { election: latest.election.id, snapshots: latest.seq, head, takenAt: latest.takenAt };
}

/**
 * `snapshots/index.json` lists the chain just walked, newest first, every
 * field of every entry as its snapshot file gives it. Published from v5 on,
 * so a chain whose latest is v5 must have it; older chains may not.
 */
async function checkIndex(
  files: PublishedFiles,
  latest: Snapshot,
  walked: readonly SnapshotIndexEntry[],
): Promise<void> {
  const text = await files.read(SNAPSHOT_INDEX_PATH);
  if (text === null) {
    if (latest.v < 5) return;
    throw new PublisherError('index_mismatch', `${SNAPSHOT_INDEX_PATH} is missing`);
  }
  let listed: unknown;
  try {
    listed = JSON.parse(text);
  } catch (cause) {
    throw new PublisherError('index_mismatch', `${SNAPSHOT_INDEX_PATH} is not JSON`, { cause });
  }
  const index = listed as { v?: unknown; election?: unknown; snapshots?: unknown };
  if (index.v !== 1 || index.election !== latest.election.id || !Array.isArray(index.snapshots)) {
    throw new PublisherError(
      'index_mismatch',
      `${SNAPSHOT_INDEX_PATH} is not the index of ${latest.election.id}`,
    );
  }
  const expected = [...walked].reverse();
  if (index.snapshots.length !== expected.length) {
    throw new PublisherError(
      'index_mismatch',
      `${SNAPSHOT_INDEX_PATH} lists ${index.snapshots.length} snapshots, the chain has ${expected.length}`,
    );
  }
  for (const [i, want] of expected.entries()) {
    const entry = (index.snapshots[i] ?? {}) as Record<string, unknown>;
    const fields = Object.entries(want);
    if (Object.keys(entry).length !== fields.length || fields.some(([k, v]) => entry[k] !== v)) {
      throw new PublisherError(
        'index_mismatch',
        `${SNAPSHOT_INDEX_PATH}: entry ${i} is not snapshot ${want.seq} (seq ${want.seq}, hash ${want.hash})`,
      );
    }
  }
}

/**
 * A final snapshot states what its counts and the previous final imply
 * (final.ts recomputes it from the same declaration fields), and each
 * district's protocol is published, signed and the one it implies.
 */
async function checkFinal(
  files: PublishedFiles,
  key: KeyObject,
  s: Snapshot,
  previous: Snapshot | null,
): Promise<void> {
  const stated = s.final!;
  const expected = finalResult(
    s,
    {
      id: stated.declaration,
      by: stated.by,
      detail: stated.reason,
      at: stated.at,
      reference: stated.reference,
    },
    previous,
  );
  if (canonicalJson(expected) !== canonicalJson(stated)) {
    const what = (['round', 'winners', 'changes'] as const).find(
      (k) => canonicalJson(expected[k]) !== canonicalJson(stated[k]),
    );
    throw new PublisherError(
      'final_mismatch',
      `snapshot ${s.seq}: the final's ${what ?? 'declaration'} is not what its counts${previous === null ? '' : ` and final snapshot ${previous.seq}`} give`,
    );
  }
  for (const unsigned of districtProtocols(s)) {
    const paths = finalPaths(stated.round, unsigned.district.id);
    const where = `snapshot ${s.seq}: ${paths.json}`;
    const text = await files.read(paths.json);
    if (text === null) throw new PublisherError('protocol_mismatch', `${where} is missing`);
    let protocol: DistrictProtocol;
    try {
      protocol = JSON.parse(text) as DistrictProtocol;
    } catch (cause) {
      throw new PublisherError('protocol_mismatch', `${where} is not JSON`, { cause });
    }
    if (typeof protocol.signature !== 'string' || !verifyDocument(protocol, key)) {
      throw new PublisherError('protocol_mismatch', `${where}: the signature does not verify`);
    }
    const { signature: _signature, ...rest } = protocol;
    if (canonicalJson(rest) !== canonicalJson(unsigned) || text !== protocolJson(protocol)) {
      throw new PublisherError('protocol_mismatch', `${where} is not the protocol the snapshot implies`);
    }
    const html = await files.read(paths.html);
    if (html !== protocolHtml(protocol)) {
      throw new PublisherError(
        'protocol_mismatch',
        `snapshot ${s.seq}: ${paths.html} ${html === null ? 'is missing' : 'differs from the JSON'}`,
      );
    }
  }
}

/**
 * The chain only grows from the head seen before: it still holds that
 * snapshot, unchanged, at its seq. Each way it can fail has its own code.
 */
async function checkGrowsFrom(
  files: PublishedFiles,
  key: KeyObject,
  seen: SeenHead,
  servedSeq: number,
  hashes: readonly string[],
): Promise<void> {
  const was = `snapshot ${seen.seq} (${seen.hash.slice(0, 16)}…), seen before`;
  if (servedSeq >= seen.seq) {
    if (hashes[seen.seq - 1] !== seen.hash) {
      throw new PublisherError('forked_chain', `snapshot ${seen.seq} served now is not ${was}`);
    }
    return;
  }
  const text = await files.read(snapshotPaths(seen.seq).json);
  if (text === null) {
    throw new PublisherError('truncated_chain', `the chain ends at snapshot ${servedSeq}, without ${was}`);
  }
  const s = parse(text, snapshotPaths(seen.seq).json);
  if (!verifySnapshotSignature(s, key)) {
    throw new PublisherError('bad_signature', `snapshot ${seen.seq}: the signature does not verify`);
  }
  if (snapshotHash(s) !== seen.hash) {
    throw new PublisherError('forked_chain', `snapshot ${seen.seq} served now is not ${was}`);
  }
  throw new PublisherError(
    'rolled_back_head',
    `${LATEST_PATH} says ${servedSeq}, older than ${was}, which is still published`,
  );
}

/**
 * The first code of sorted `before` that is not in sorted `after`, or `null`.
 * One merge pass over two files the walk has already read and checked
 * against their Merkle roots; comparing each snapshot with the one before
 * covers every later snapshot by transitivity.
 */
export function firstMissing(before: readonly string[], after: readonly string[]): string | null {
  let j = 0;
  for (const code of before) {
    while (j < after.length && after[j]! < code) j++;
    if (after[j] !== code) return code;
    j++;
  }
  return null;
}

/** `keys.json`, when published: signed with the same key, this election, the chain's district keys. */
async function checkKeyStatement(
  files: PublishedFiles,
  key: KeyObject,
  last: Snapshot,
  manifest: PublishedManifest | null,
): Promise<void> {
  if (manifest?.districtKeys != null) {
    const differ = districtKeysDiffer(manifest.districtKeys, last.districtKeys);
    if (differ !== null) {
      throw new PublisherError(
        'district_keys_changed',
        `elections/${last.election.id}.json and the snapshots differ: ${differ}`,
      );
    }
  }
  const text = await files.read(KEYS_PATH);
  if (text === null) return;
  const statement = readKeyStatement(text, key);
  const differ =
    statement.election === last.election.id
      ? districtKeysDiffer(statement.districtKeys, last.districtKeys)
      : `it is of election ${statement.election}`;
  if (differ !== null) {
    throw new PublisherError('district_keys_changed', `${KEYS_PATH} and the snapshots differ: ${differ}`);
  }
}

const fingerprint = (spki: string): string => `SHA-256 ${spkiSha256(spki)}`;

interface PublishedManifest {
  readonly snapshotKey: string | undefined;
  /** `null` when the manifest lists no districts (a stripped-down copy). */
  readonly districtKeys: readonly DistrictKeyFingerprint[] | null;
}

/** The parts of the published manifest verify compares, or `null` if none is published. */
async function readManifest(files: PublishedFiles, election: string): Promise<PublishedManifest | null> {
  const path = `elections/${election}.json`;
  const text = await files.read(path);
  if (text === null) return null;
  try {
    const manifest = JSON.parse(text) as {
      snapshotKey?: { alg?: string; spki?: string };
      districts?: { id: string; key: { spki: string } }[];
    };
    return {
      snapshotKey: manifest.snapshotKey?.alg === 'Ed25519' ? manifest.snapshotKey.spki : undefined,
      districtKeys: Array.isArray(manifest.districts)
        ? districtKeyFingerprints({ districts: manifest.districts })
        : null,
    };
  } catch (cause) {
    throw new PublisherError('snapshot_malformed', `${path} is not a manifest`, { cause });
  }
}

/**
 * The snapshot key the target publishes in its election manifest: what
 * `verify` pins on first use when no `--key` is given (verify-cli.ts).
 */
export async function publishedSnapshotKey(files: PublishedFiles, election: string): Promise<string> {
  const manifest = await readManifest(files, election);
  if (manifest?.snapshotKey === undefined) {
    throw new PublisherError(
      'key_invalid',
      `no key pinned or given with --key, and elections/${election}.json publishes no Ed25519 snapshot key`,
    );
  }
  return manifest.snapshotKey;
}

function parse(text: string, where: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new PublisherError('snapshot_malformed', `${where} is not JSON`, { cause });
  }
  const problem = snapshotShapeProblem(value);
  if (problem !== null) throw new PublisherError('snapshot_malformed', `${where}: ${problem}`);
  return value as Snapshot;
}

async function checkCodes(files: PublishedFiles, s: Snapshot): Promise<string[]> {
  const expected = snapshotPaths(s.seq).codes;
  if (s.codes.file !== expected) {
    throw new PublisherError(
      'merkle_mismatch',
      `snapshot ${s.seq}: codes file is ${s.codes.file}, not ${expected}`,
    );
  }
  const text = await files.read(expected);
  if (text === null)
    throw new PublisherError('snapshot_missing', `snapshot ${s.seq}: ${expected} is missing`);
  const codes = parseCodesFile(text);
  if (codes === null)
    throw new PublisherError(
      'merkle_mismatch',
      `snapshot ${s.seq}: ${expected} is not sorted, distinct lines`,
    );
  if (codes.length !== s.codes.count) {
    throw new PublisherError(
      'merkle_mismatch',
      `snapshot ${s.seq}: ${expected} has ${codes.length} codes, not ${s.codes.count}`,
    );
  }
  if (merkleRoot(codes) !== s.codes.merkleRoot) {
    throw new PublisherError(
      'merkle_mismatch',
      `snapshot ${s.seq}: the Merkle root of ${expected} is not ${s.codes.merkleRoot}`,
    );
  }
  return codes;
}

/** For the CLI: whether a path exists, to tell a typo from a missing `latest.json`. */
export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
