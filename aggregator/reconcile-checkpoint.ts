/**
 * Reconcile's checkpoint: one election's running state (ballot-scan.ts
 * {@link ElectionBallots}) on disk, so a restarted publisher or the CLI reads
 * only the records that arrived since, never the election from its start.
 *
 *   <dir>/<election>.json           the header, replaced atomically (tmp, fsync, rename):
 *                                   {v, election, generation, winnersBytes, offsets,
 *                                    records, refused, conflicted[], regions{…}}
 *   <dir>/<election>.<gen>.winners  append-only, read up to header.winnersBytes; per entry
 *                                   u32 id bytes | id | u8 kind | 32-byte hash (kind 0) or
 *                                   u32 bytes + odd hash (kind 1) | u32 partition | f64 offset | u32 rev
 *                                   — a later entry for an id replaces an earlier one
 *
 * A save appends the winners created or changed since the last one, then
 * swaps the header: its cost follows the new records (~80 bytes a ballot),
 * and a crash between the two leaves the old header pointing at a prefix of
 * the file. It appends only when the header on disk is the one this process
 * last loaded or wrote, so it never writes below what a reader may be
 * reading; otherwise (another process saved meanwhile: the CLI beside the
 * publisher) it writes a new generation file whole, swaps the header, then
 * deletes the old file. Saves of one election are serialised by a lock
 * file; a save that finds it held is skipped (its state stays in memory).
 *
 * Why a file under `$STACK_DIR` and not a ClickHouse table: reconcile is the
 * check on ClickHouse, so its memory of the log must not depend on what it
 * checks; the state is derived from Kafka and can always be rebuilt by a
 * fresh scan (a missing or unreadable checkpoint only costs time); and
 * loading 400,000 winners from a local file takes a fraction of a second,
 * where reading them back over HTTP would take seconds. `stack reset` wipes
 * it together with the Kafka log it describes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { ElectionBallots, type RegionCount } from './ballot-scan.js';
import type { FirstRecordIndex, IndexEntry } from './first-record.js';

/** 2: entries carry the winner's revision (re-voting); a v1 checkpoint is scanned afresh. */
const VERSION = 2;
/** A lock older than this was left by a crashed save. */
const STALE_LOCK_MS = 120_000;

interface Header {
  readonly v: number;
  readonly election: string;
  readonly generation: string;
  readonly winnersBytes: number;
  readonly offsets: Record<string, number>;
  readonly records: number;
  readonly refused: number;
  readonly conflicted: readonly string[];
  /** region → [ballots, {race → [ballots, marks]}] */
  readonly regions: Record<string, [number, Record<string, [number, number]>]>;
}

/** The checkpoint of one election in one directory. */
export class ReconcileCheckpoint {
  readonly #dir: string;
  readonly #election: string;
  readonly #log: Logger;
  /** What this process last loaded or wrote; null: the next save writes a new generation whole. */
  #generation: string | null = null;
  #winnersBytes = 0;

  constructor(dir: string, election: string, log: Logger) {
    this.#dir = dir;
    this.#election = election;
    this.#log = log;
  }

  get #base(): string {
    return join(this.#dir, encodeURIComponent(this.#election));
  }

  #winnersPath(generation: string): string {
    return `${this.#base}.${generation}.winners`;
  }

  /** The saved state, or null when there is none or it cannot be read (then: a fresh scan). */
  async load(): Promise<ElectionBallots | null> {
    // A save may swap generations between reading the header and its file: then read again.
    return (await this.#load(false)) ?? this.#load(true);
  }

  async #load(last: boolean): Promise<ElectionBallots | null> {
    let header: Header;
    try {
      header = JSON.parse(await readFile(`${this.#base}.json`, 'utf8')) as Header;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#log.warn(
          { err: error, election: this.#election },
          'reconcile checkpoint unreadable; scanning afresh',
        );
      return null;
    }
    try {
      if (header.v !== VERSION || header.election !== this.#election) throw new Error('not this checkpoint');
      const bytes = await readFile(this.#winnersPath(header.generation));
      if (bytes.length < header.winnersBytes) throw new Error('winners file shorter than its header says');
      const state = new ElectionBallots(this.#election);
      decodeWinners(bytes.subarray(0, header.winnersBytes), state.index);
      state.index.takeChanged();
      for (const [key, offset] of Object.entries(header.offsets)) state.offsets.set(key, offset);
      state.records = header.records;
      state.refused = header.refused;
      for (const id of header.conflicted) state.index.conflicted.add(id);
      for (const [region, [ballots, races]] of Object.entries(header.regions)) {
        const count: RegionCount = { ballots, races: new Map() };
        for (const [race, [b, m]] of Object.entries(races)) count.races.set(race, { ballots: b, marks: m });
        state.regions.set(region, count);
      }
      this.#generation = header.generation;
      this.#winnersBytes = header.winnersBytes;
      return state;
    } catch (error) {
      if (last)
        this.#log.warn(
          { err: error, election: this.#election },
          'reconcile checkpoint unusable; scanning afresh',
        );
      return null;
    }
  }

  /** Saves `state`; false when another save of the election holds the lock (nothing written). */
  async save(state: ElectionBallots): Promise<boolean> {
    await mkdir(this.#dir, { recursive: true });
    const lock = `${this.#base}.lock`;
    if (!(await takeLock(lock))) return false;
    try {
      await this.#write(state);
      return true;
    } catch (error) {
      // Whatever was half-written, the next save starts a new generation from the whole state.
      this.#generation = null;
      throw error;
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  async #write(state: ElectionBallots): Promise<void> {
    const current = await readFile(`${this.#base}.json`, 'utf8')
      .then((text) => JSON.parse(text) as Header)
      .catch(() => null);
    const appending =
      this.#generation !== null &&
      current?.generation === this.#generation &&
      current.winnersBytes === this.#winnersBytes;
    const generation = appending ? this.#generation! : randomBytes(6).toString('hex');
    const slots = appending ? state.index.takeChanged() : state.index.takeAll();
    const chunk = encodeWinners(state.index, slots);
    const start = appending ? this.#winnersBytes : 0;
    const file = await open(this.#winnersPath(generation), appending ? 'r+' : 'w');
    try {
      await file.write(chunk, 0, chunk.length, start);
      await file.truncate(start + chunk.length);
      await file.sync();
    } finally {
      await file.close();
    }
    const header: Header = {
      v: VERSION,
      election: state.election,
      generation,
      winnersBytes: start + chunk.length,
      offsets: Object.fromEntries(state.offsets),
      records: state.records,
      refused: state.refused,
      conflicted: [...state.index.conflicted],
      regions: Object.fromEntries(
        [...state.regions].map(([region, count]) => [
          region,
          [
            count.ballots,
            Object.fromEntries([...count.races].map(([race, c]) => [race, [c.ballots, c.marks]])),
          ],
        ]),
      ),
    };
    const tmp = `${this.#base}.json.${process.pid}.tmp`;
    const out = await open(tmp, 'w');
    try {
      await out.writeFile(JSON.stringify(header));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, `${this.#base}.json`);
    if (current !== null && current.generation !== generation) {
      await unlink(this.#winnersPath(current.generation)).catch(() => undefined);
    }
    this.#generation = generation;
    this.#winnersBytes = start + chunk.length;
  }
}

/** Creates the lock file; false if another live save holds it. */
async function takeLock(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
      if (age < STALE_LOCK_MS) return false;
      await unlink(path).catch(() => undefined);
    }
  }
  return false;
}

function encodeWinners(index: FirstRecordIndex, slots: readonly number[]): Buffer {
  const entries = slots.map((slot) => index.entry(slot));
  let size = 0;
  for (const e of entries) {
    const hash = e.oddHash === null ? 32 : 4 + Buffer.byteLength(e.oddHash);
    size += 4 + Buffer.byteLength(e.ballotId) + 1 + hash + 4 + 8 + 4;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of entries) {
    const idBytes = out.write(e.ballotId, at + 4);
    out.writeUInt32LE(idBytes, at);
    at += 4 + idBytes;
    if (e.oddHash === null) {
      out[at++] = 0;
      out.set(e.digest, at);
      at += 32;
    } else {
      out[at++] = 1;
      const n = out.write(e.oddHash, at + 4);
      out.writeUInt32LE(n, at);
      at += 4 + n;
    }
    out.writeUInt32LE(e.partition, at);
    out.writeDoubleLE(e.offset, at + 4);
    out.writeUInt32LE(e.rev, at + 12);
    at += 16;
  }
  return out;
}

function decodeWinners(bytes: Buffer, index: FirstRecordIndex): void {
  const digest = Buffer.alloc(32);
  let at = 0;
  while (at < bytes.length) {
    const idBytes = bytes.readUInt32LE(at);
    const ballotId = bytes.toString('utf8', at + 4, at + 4 + idBytes);
    at += 4 + idBytes;
    let oddHash: string | null = null;
    if (bytes[at++] === 0) {
      bytes.copy(digest, 0, at, at + 32);
      at += 32;
    } else {
      const n = bytes.readUInt32LE(at);
      oddHash = bytes.toString('utf8', at + 4, at + 4 + n);
      at += 4 + n;
    }
    const entry: IndexEntry = {
      ballotId,
      digest,
      oddHash,
      partition: bytes.readUInt32LE(at),
      offset: bytes.readDoubleLE(at + 4),
      rev: bytes.readUInt32LE(at + 12),
    };
    at += 16;
    index.restore(entry);
  }
  if (at !== bytes.length) throw new Error('winners file ends inside an entry');
}
