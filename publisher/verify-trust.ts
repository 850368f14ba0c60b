/**
 * What `npm run verify` remembers between runs, per election: the snapshot
 * key it pinned and the chain head it last verified. A results site (or a
 * mirror of it) that later serves a different key, an older head, a chain
 * that stops short of that head or holds another snapshot at its seq fails
 * (verify.ts names which).
 *
 *   ~/.local/state/saylau/verify.json      (or --state <file>)
 *   {v: 1, elections: {<id>: {key, keyFingerprint, pinnedAt, pinnedFrom,
 *                             head: {seq, hash, takenAt} | null, checkedAt}}}
 *
 * The key is pinned from `--key` (best: obtained from the commission, not
 * from the site being checked) or, on first use without one, from the
 * manifest the target publishes — trust on first use, which the CLI says
 * loudly, with the fingerprint to compare. A `--key` that differs from the
 * pinned one is refused: re-pinning is a deliberate act (another state file,
 * or deleting the election's entry).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { spkiSha256 } from './district-keys.js';
import { PublisherError } from './errors.js';
import type { SeenHead } from './verify.js';

export const DEFAULT_STATE_PATH = join(homedir(), '.local', 'state', 'saylau', 'verify.json');

export interface TrustEntry {
  /** Ed25519 SPKI DER, base64url. */
  readonly key: string;
  /** `spkiSha256(key)`, to compare by eye with an announced fingerprint. */
  readonly keyFingerprint: string;
  readonly pinnedAt: string;
  /** `--key`, or the URL/path of the manifest it was taken from on first use. */
  readonly pinnedFrom: string;
  readonly head: (SeenHead & { readonly takenAt: string }) | null;
  readonly checkedAt: string | null;
}

export interface TrustState {
  readonly v: 1;
  readonly elections: Readonly<Record<string, TrustEntry>>;
}

/** The state file, or an empty state if there is none yet. */
export async function readTrustState(path: string): Promise<TrustState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { v: 1, elections: {} };
    throw new PublisherError('state_invalid', `cannot read ${path}`, { cause });
  }
  try {
    const state = JSON.parse(text) as TrustState;
    if (state.v === 1 && typeof state.elections === 'object' && state.elections !== null) return state;
  } catch (cause) {
    throw new PublisherError('state_invalid', `${path} is not JSON`, { cause });
  }
  throw new PublisherError('state_invalid', `${path} is not a verify state file (v 1)`);
}

/** Writes the state atomically (temp file + rename), so a crash never leaves half a pin. */
export async function writeTrustState(path: string, state: TrustState): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, path);
  } catch (cause) {
    throw new PublisherError('state_invalid', `cannot write ${path}`, { cause });
  }
}

export type KeyChoice =
  | { readonly spki: string; readonly pinned: 'before'; readonly entry: TrustEntry }
  | { readonly spki: string; readonly pinned: 'now'; readonly from: string };

/**
 * The key to verify with: the pinned one; else `--key`; else, on first use,
 * the published one (`published()` is only called then).
 * @throws PublisherError `key_mismatch` when `--key` differs from the pinned key
 */
export async function chooseKey(
  entry: TrustEntry | undefined,
  given: string | undefined,
  published: () => Promise<{ spki: string; from: string }>,
  statePath: string,
): Promise<KeyChoice> {
  if (entry !== undefined) {
    if (given !== undefined && given !== entry.key) {
      throw new PublisherError(
        'key_mismatch',
        `--key has fingerprint ${spkiSha256(given)}, but ${statePath} pinned ${entry.keyFingerprint} on ${entry.pinnedAt} (from ${entry.pinnedFrom}); to pin another key on purpose, use another --state file or delete that entry`,
      );
    }
    return { spki: entry.key, pinned: 'before', entry };
  }
  if (given !== undefined) return { spki: given, pinned: 'now', from: '--key' };
  return { ...(await published()), pinned: 'now' };
}

/** The entry to save after a successful run: the (possibly new) pin and the head just verified. */
export function nextEntry(
  choice: KeyChoice,
  head: SeenHead & { readonly takenAt: string },
  now: Date,
): TrustEntry {
  const base =
    choice.pinned === 'before'
      ? choice.entry
      : {
          key: choice.spki,
          keyFingerprint: spkiSha256(choice.spki),
          pinnedAt: now.toISOString(),
          pinnedFrom: choice.from,
        };
  return { ...base, head, checkedAt: now.toISOString() };
}
