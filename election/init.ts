/**
 * Getting an election ready to run, step by step, each step idempotent:
 *
 *   config ─validate─► keys (make missing) ─► manifest file ─► roll in Redis
 *                                                              (skipped when the
 *                                                               marker's digest matches)
 *
 * `npm start` runs all of it through `npm run election -- init`; the CLI's
 * other commands run single steps.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../common/config.js';
import { ElectionError } from './errors.js';
import {
  type ElectionKeys,
  keysDir,
  type MakeKeysOptions,
  makeKeys,
  missingDistrictKeys,
  readKeys,
} from './keys.js';
import type { ElectionIndex } from './load.js';
import { recordLogStart } from './log-start.js';
import { buildManifest, manifestPath, writeManifest } from './manifest.js';
import { assertRollCsv, rollCsvRows, scanRollCsv } from './roll-csv.js';
import {
  loadRoll,
  type RollMeta,
  type RollRow,
  type RollSourceKind,
  type RollStore,
  readRollMeta,
  rollDigest,
} from './roll-redis.js';
import { sampleRollPlan, sampleRollRows } from './sample-roll.js';

/** All a roll load needs of the keys: voterHash = HMAC(pepper, member id). */
export type RollKeys = Pick<ElectionKeys, 'pepper'>;

export interface RollLoadOptions {
  /** Import this CSV instead of the election's synthetic sample roll. */
  readonly csv?: string;
  /** Load bad CSV rows' neighbours anyway, skipping the bad rows. @default false */
  readonly skipBadRows?: boolean;
  /** Reload even when the marker says this exact roll is loaded. @default false */
  readonly force?: boolean;
  /** Progress: rows stored so far and the expected total. */
  readonly onProgress?: (loaded: number, total: number) => void;
  /** Keep a copy of an imported CSV under this stack dir's keys, as the roll's own record. */
  readonly keepIn?: string;
}

export interface RollLoadResult {
  /** `kept`: the same roll was already loaded; `loaded`: it was (re)loaded now. */
  readonly action: 'kept' | 'loaded';
  readonly meta: RollMeta;
}

/**
 * Loads the election's roll into Redis unless the same roll (same content,
 * same pepper) is already there.
 * @throws ElectionError `no_sample_roll` (no CSV for an election without a
 *   sample roll), `roll_invalid`, `roll_store_failed`
 */
export async function ensureRoll(
  redis: RollStore,
  index: ElectionIndex,
  keys: RollKeys,
  options: RollLoadOptions = {},
): Promise<RollLoadResult> {
  return withRollLock(redis, index.id, () => ensureRollLocked(redis, index, keys, options));
}

/** A loader holds `roll-lock:{<election>}` at most this long (a crashed one frees it by expiry). */
const ROLL_LOCK_MS = 300_000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * One roll loader at a time per election: ingest restoring an emptied Redis
 * and an operator's `init` could otherwise interleave their staging hashes
 * and RENAME a half-written one over the live roll. A second loader waits,
 * then finds the roll loaded (same digest) and keeps it.
 */
async function withRollLock<T>(redis: RollStore, electionId: string, fn: () => Promise<T>): Promise<T> {
  const key = `roll-lock:{${electionId}}`;
  const token = randomUUID();
  const deadline = Date.now() + ROLL_LOCK_MS;
  while ((await redis.set(key, token, 'PX', ROLL_LOCK_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline) {
      throw new ElectionError('roll_store_failed', `another loader holds the roll of "${electionId}"`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    return await fn();
  } finally {
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}

async function ensureRollLocked(
  redis: RollStore,
  index: ElectionIndex,
  keys: RollKeys,
  options: RollLoadOptions,
): Promise<RollLoadResult> {
  const current = await readRollMeta(redis, index.id);
  if (options.csv === undefined && index.config.sampleRoll === undefined) {
    // A real election's roll comes only from an explicit import; init keeps whatever was imported.
    if (current !== null) return { action: 'kept', meta: current };
    throw new ElectionError(
      'no_sample_roll',
      `election "${index.id}" has no roll loaded; import one with --csv <file>`,
    );
  }
  let source: RollSourceKind;
  let contentDigest: string;
  let total: number;
  let rows: () => AsyncIterable<readonly RollRow[]>;
  if (options.csv !== undefined) {
    const scan = await scanRollCsv(options.csv, index, keys.pepper);
    assertRollCsv(scan, options.skipBadRows ?? false);
    source = 'csv';
    // Skipping bad rows loads a different roll than the file as a whole: the digest says which.
    contentDigest = `csv:${scan.digest}:${options.skipBadRows === true ? [...scan.badLines].join(',') : ''}`;
    total = scan.rows;
    rows = () => rollCsvRows(scan, index, keys.pepper);
  } else {
    const plan = sampleRollPlan(index);
    source = 'sample';
    contentDigest = `sample:${plan.digest}`;
    total = plan.size;
    rows = () => sampleRollRows(index, keys.pepper);
  }
  const digest = rollDigest(contentDigest, keys.pepper);
  if (current !== null && current.digest === digest && options.force !== true) {
    return { action: 'kept', meta: current };
  }
  const meta = await loadRoll(
    redis,
    index,
    rows(),
    { digest, source },
    {
      onProgress: (loaded) => options.onProgress?.(loaded, total),
    },
  );
  if (options.csv !== undefined && options.keepIn !== undefined) {
    await keepRollCsv(options.keepIn, index.id, options.csv, options.skipBadRows ?? false);
  }
  return { action: 'loaded', meta };
}

/**
 * The roll's own record, kept beside the election's keys: an imported CSV is
 * copied to `<stack>/keys/<election>/roll.csv` (with how it was read), so the
 * roll can be put back into Redis without the operator (a synthetic sample
 * roll is its own record: seed and size are in the config).
 */
const keptRollPaths = (stackDir: string, electionId: string) => ({
  csv: join(keysDir(stackDir, electionId), 'roll.csv'),
  source: join(keysDir(stackDir, electionId), 'roll-source.json'),
});

async function keepRollCsv(stackDir: string, electionId: string, csv: string, skipBadRows: boolean) {
  const kept = keptRollPaths(stackDir, electionId);
  if (resolve(csv) !== resolve(kept.csv)) await copyFile(csv, kept.csv);
  await writeFile(kept.source, `${JSON.stringify({ skipBadRows })}\n`, { mode: 0o600 });
}

/**
 * Puts the roll back into Redis from its own record if it is not there (the
 * same roll, by digest, is kept): the kept CSV of an imported roll, or the
 * config's synthetic sample. Ingest calls it when it finds Redis emptied.
 */
export async function restoreRoll(
  stackDir: string,
  redis: RollStore,
  index: ElectionIndex,
  keys: RollKeys,
): Promise<RollLoadResult> {
  const kept = keptRollPaths(stackDir, index.id);
  if (!existsSync(kept.csv)) return ensureRoll(redis, index, keys);
  const { skipBadRows } = JSON.parse(await readFile(kept.source, 'utf8')) as { skipBadRows: boolean };
  return ensureRoll(redis, index, keys, { csv: kept.csv, skipBadRows });
}

export interface InitOptions extends RollLoadOptions {
  /** Key options for keys that are missing (existing keys are always kept by init). */
  readonly keys?: Omit<MakeKeysOptions, 'force'>;
  /** One line of progress for a person (stderr in the CLI). */
  readonly log?: (line: string) => void;
}

export interface InitResult {
  readonly keysCreated: number;
  readonly manifestPath: string;
  readonly roll: RollLoadResult;
}

/**
 * Validated config in, running election out: keys made if missing, manifest
 * written, roll loaded. Safe to run on every start.
 */
export async function initElection(
  settings: Config,
  index: ElectionIndex,
  redis: RollStore,
  options: InitOptions = {},
): Promise<InitResult> {
  const log = options.log ?? ((_line: string) => undefined);
  const made = await makeKeys(settings.stackDir, index, options.keys);
  log(made.created === 0 ? 'keys: all present' : `keys: made ${made.created}, kept ${made.kept}`);
  // Brand-new keys: nothing of this election is in the log yet, so today's ends bound its rebuilds.
  if (made.kept === 0 && (await recordLogStart(settings, index.id))) log('log start: recorded');
  const keys = await readKeys(settings.stackDir, index.id);
  const missing = missingDistrictKeys(index, keys);
  if (missing.length > 0)
    throw new ElectionError('keys_missing', `districts without keys: ${missing.join(', ')}`);

  const path = manifestPath(settings.publisher.publicDir, index.id);
  await writeManifest(path, buildManifest(index, keys));
  log(`manifest: ${path}`);

  const roll = await ensureRoll(redis, index, keys, { ...options, keepIn: settings.stackDir });
  log(
    roll.action === 'kept'
      ? `roll: already loaded (${roll.meta.count} members)`
      : `roll: loaded ${roll.meta.count} members from ${roll.meta.source}`,
  );
  return { keysCreated: made.created, manifestPath: path, roll };
}
