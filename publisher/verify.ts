/**
 * Verifies a published results directory or URL (DESIGN §1 promise 4):
 * every snapshot from 1 to `latest.json`'s seq is present, well-formed,
 * signed by the election's snapshot key, linked to the one before by
 * `prevHash`, adds up (totals.ts), and its codes file has the stated count
 * and Merkle root; its CSV is the one the JSON implies. Stops at the first
 * problem with a PublisherError naming it.
 *
 * The key comes from the caller (`--key`, best: obtained independently) or,
 * failing that, from the election manifest published next to the snapshots,
 * which only proves the snapshots are consistent with that manifest.
 */
import type { KeyObject } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { snapshotCsv } from './csv.js';
import { PublisherError } from './errors.js';
import { merkleRoot, parseCodesFile } from './merkle.js';
import { publicKeyFromSpki, snapshotHash, verifySnapshotSignature } from './signer.js';
import { LATEST_PATH, type Snapshot, snapshotPaths } from './snapshot.js';
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
  /** Ed25519 public key, SPKI DER base64url; default: the published election manifest's. */
  readonly spki?: string;
  /** Called after each snapshot passes. */
  readonly onSnapshot?: (seq: number) => void;
}

export interface VerifyReport {
  readonly election: string;
  readonly snapshots: number;
  /** SHA-256 of the newest snapshot's canonical bytes: quote it to pin the chain. */
  readonly head: string;
}

export async function verifyPublished(
  files: PublishedFiles,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const latestText = await files.read(LATEST_PATH);
  if (latestText === null) throw new PublisherError('snapshot_missing', `${LATEST_PATH} is missing`);
  const latest = parse(latestText, LATEST_PATH);
  const key = await snapshotKey(files, latest.election.id, options.spki);
  let prev: Snapshot | null = null;
  let prevHash: string | null = null;
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
    if (s.prevHash !== prevHash) {
      throw new PublisherError(
        'broken_chain',
        `snapshot ${seq}: prevHash ${s.prevHash} ≠ hash of snapshot ${seq - 1} (${prevHash})`,
      );
    }
    if (prev !== null && s.takenAt < prev.takenAt) {
      throw new PublisherError('broken_chain', `snapshot ${seq} was taken before snapshot ${seq - 1}`);
    }
    const problem = checkTotals(s);
    if (problem !== null) throw new PublisherError('totals_mismatch', `snapshot ${seq}: ${problem}`);
    await checkCodes(files, s);
    const csv = await files.read(paths.csv);
    if (csv === null)
      throw new PublisherError('snapshot_missing', `snapshot ${seq}: ${paths.csv} is missing`);
    if (csv !== snapshotCsv(s))
      throw new PublisherError('csv_mismatch', `snapshot ${seq}: ${paths.csv} differs from the JSON`);
    prev = s;
    prevHash = snapshotHash(s);
    options.onSnapshot?.(seq);
  }
  if (prev === null || prevHash === null)
    throw new PublisherError('snapshot_missing', 'no snapshots published');
  if (snapshotHash(latest) !== prevHash || latest.signature !== prev.signature) {
    throw new PublisherError('broken_chain', `${LATEST_PATH} is not snapshot ${latest.seq}`);
  }
  if ((await files.read(snapshotPaths(latest.seq + 1).json)) !== null) {
    throw new PublisherError(
      'broken_chain',
      `${LATEST_PATH} says ${latest.seq}, but snapshot ${latest.seq + 1} exists`,
    );
  }
  return { election: latest.election.id, snapshots: latest.seq, head: prevHash };
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

async function snapshotKey(
  files: PublishedFiles,
  election: string,
  spki: string | undefined,
): Promise<KeyObject> {
  if (spki !== undefined) return publicKeyFromSpki(spki);
  const path = `elections/${election}.json`;
  const text = await files.read(path);
  if (text === null) throw new PublisherError('key_invalid', `no --key given and ${path} is not published`);
  try {
    const manifest = JSON.parse(text) as { snapshotKey?: { alg?: string; spki?: string } };
    if (manifest.snapshotKey?.alg === 'Ed25519' && typeof manifest.snapshotKey.spki === 'string') {
      return publicKeyFromSpki(manifest.snapshotKey.spki);
    }
  } catch (cause) {
    throw new PublisherError('key_invalid', `${path} is not a manifest`, { cause });
  }
  throw new PublisherError('key_invalid', `${path} has no Ed25519 snapshotKey`);
}

async function checkCodes(files: PublishedFiles, s: Snapshot): Promise<void> {
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
}

/** For the CLI: whether a path exists, to tell a typo from a missing `latest.json`. */
export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
