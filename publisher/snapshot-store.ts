/**
 * Writes snapshots to the public directory, immutably and atomically.
 *
 *   <publicDir>/
 *   ├─ codes/{seq}.txt         1. counted codes          } written to a temp name, fsynced,
 *   ├─ snapshots/{seq}.csv     2. CSV download           } then hard-linked into place: link(2)
 *   ├─ snapshots/{seq}.precincts.csv  CSV of the paper precincts (v3)
 *   ├─ snapshots/{seq}.json    3. the commit point       } fails if the name exists, so a
 *   ├─ snapshots/index.json    4. the chain, newest first} published file is never rewritten
 *   ├─ latest.json             5. copy of the newest     }
 *   ├─ keys.json               district key fingerprints, signed; written once at start (key-statement.ts)
 *   ├─ final/{round}/{district}.json|.html  a final's protocols, after its snapshot (final-files.ts)
 *   ├─ final/index.json        the rounds declared so far  (replaced)
 *   └─ live.json               live turnout feed          (4, 5 and live: temp + rename, replaced)
 *
 * `snapshots/{seq}.json` is the commit point: a crash before it leaves only
 * files no published snapshot refers to, which `open()` removes; a crash
 * after it leaves at worst a stale index or `latest.json`, which `open()`
 * rewrites. The index is replaced before `latest.json`, so whoever sees a
 * snapshot as the latest finds it in the index.
 * One publisher per directory (the scheduler never overlaps itself).
 */
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { precinctsCsv, snapshotCsv } from './csv.js';
import { PublisherError } from './errors.js';
import { KEYS_PATH, type KeyStatement, keyStatementText } from './key-statement.js';
import { codesFileText } from './merkle.js';
import { snapshotHash } from './signer.js';
import {
  LATEST_PATH,
  SNAPSHOT_INDEX_PATH,
  type Snapshot,
  type SnapshotIndexEntry,
  snapshotPaths,
} from './snapshot.js';
import { readSnapshotIndex, snapshotIndexEntry, snapshotIndexText } from './snapshot-index.js';

export interface ChainHead {
  /** The last published seq; 0 when nothing has been published. */
  readonly seq: number;
  /** Its hash (the next `prevHash`); `null` when nothing has been published. */
  readonly hash: string | null;
  /** Its `takenAt` (ISO 8601); `null` when nothing has been published. */
  readonly takenAt: string | null;
}

const SEQ_FILE = /^(\d+)\.(json|csv|txt|precincts\.csv)$/;

export class SnapshotStore {
  readonly publicDir: string;
  #head: ChainHead = { seq: 0, hash: null, takenAt: null };
  /** `snapshots/index.json`'s entries, newest first. */
  #index: SnapshotIndexEntry[] = [];

  constructor(publicDir: string) {
    this.publicDir = publicDir;
  }

  get head(): ChainHead {
    return this.#head;
  }

  /** Finds the chain head and clears what a crashed publish left behind. */
  async open(): Promise<ChainHead> {
    await mkdir(join(this.publicDir, 'snapshots'), { recursive: true });
    await mkdir(join(this.publicDir, 'codes'), { recursive: true });
    const published = (await this.#seqs('snapshots')).filter((f) => f.ext === 'json');
    const seq = published.reduce((max, f) => Math.max(max, f.seq), 0);
    for (const dir of ['snapshots', 'codes']) {
      for (const f of await this.#seqs(dir)) {
        if (f.seq > seq || f.name.startsWith('.')) await unlink(join(this.publicDir, dir, f.name));
      }
    }
    if (seq === 0) return this.#head;
    const last = await this.#read(seq);
    this.#head = { seq, hash: snapshotHash(last), takenAt: last.takenAt };
    await this.#openIndex(last);
    await this.#replace(LATEST_PATH, `${JSON.stringify(last)}\n`);
    return this.#head;
  }

  /**
   * Keeps the published index when its newest entry is the head; adds the
   * entries a crash left out from their files when its newest entry is
   * still the file at that seq; otherwise (missing, unreadable, another
   * chain) rebuilds it from every snapshot file.
   */
  async #openIndex(last: Snapshot): Promise<void> {
    const text = await readFile(join(this.publicDir, SNAPSHOT_INDEX_PATH), 'utf8').catch(() => null);
    const entries = readSnapshotIndex(text) ?? [];
    const newest = entries[0];
    if (newest?.seq === last.seq && newest.hash === this.#head.hash) {
      this.#index = entries;
      return;
    }
    const kept =
      newest !== undefined &&
      newest.seq < last.seq &&
      newest.hash === snapshotHash(await this.#read(newest.seq))
        ? entries
        : [];
    for (let seq = (kept[0]?.seq ?? 0) + 1; seq <= last.seq; seq++) {
      kept.unshift(snapshotIndexEntry(seq === last.seq ? last : await this.#read(seq)));
    }
    this.#index = kept;
    await this.#writeIndex(last.election.id);
  }

  async #read(seq: number): Promise<Snapshot> {
    return JSON.parse(await readFile(join(this.publicDir, snapshotPaths(seq).json), 'utf8')) as Snapshot;
  }

  #writeIndex(election: string): Promise<void> {
    return this.#replace(SNAPSHOT_INDEX_PATH, snapshotIndexText({ v: 1, election, snapshots: this.#index }));
  }

  /** Publishes a signed snapshot and its codes; the seq must follow the head. */
  async publish(snapshot: Snapshot, codes: readonly string[]): Promise<ChainHead> {
    if (snapshot.seq !== this.#head.seq + 1 || snapshot.prevHash !== this.#head.hash) {
      throw new PublisherError(
        'store_failed',
        `snapshot ${snapshot.seq} does not follow head ${this.#head.seq}`,
      );
    }
    const paths = snapshotPaths(snapshot.seq);
    await this.#create(paths.codes, codesFileText(codes));
    await this.#create(paths.csv, snapshotCsv(snapshot));
    if (snapshot.precincts !== undefined) await this.#create(paths.precincts, precinctsCsv(snapshot));
    const json = `${JSON.stringify(snapshot)}\n`;
    await this.#create(paths.json, json);
    this.#head = { seq: snapshot.seq, hash: snapshotHash(snapshot), takenAt: snapshot.takenAt };
    this.#index.unshift(snapshotIndexEntry(snapshot));
    await this.#writeIndex(snapshot.election.id);
    await this.#replace(LATEST_PATH, json);
    return this.#head;
  }

  /**
   * Publishes `keys.json` once; later calls check it is the same statement.
   * @throws PublisherError `district_keys_changed` if a different one is published
   */
  async publishKeyStatement(statement: KeyStatement): Promise<void> {
    const body = keyStatementText(statement);
    const old = await readFile(join(this.publicDir, KEYS_PATH), 'utf8').catch(
      (cause: NodeJS.ErrnoException) => {
        if (cause.code === 'ENOENT') return null;
        throw new PublisherError('store_failed', `cannot read ${KEYS_PATH}`, { cause });
      },
    );
    if (old === null) return this.#create(KEYS_PATH, body);
    if (old !== body) {
      throw new PublisherError(
        'district_keys_changed',
        `${KEYS_PATH} in ${this.publicDir} lists other district keys (or another snapshot key) than this election's manifest; keys never change mid-election`,
      );
    }
  }

  /**
   * Publishes a file derived from a published snapshot (a final's protocols):
   * never rewritten, but writing the same bytes again is no error, so a
   * restart can finish what a crash cut short.
   */
  async publishDerived(relative: string, body: string): Promise<void> {
    const old = await readFile(join(this.publicDir, relative), 'utf8').catch(() => null);
    if (old === body) return;
    await this.#create(relative, body);
  }

  /** Replaces a mutable file (the live feed) atomically. */
  async replace(relative: string, body: string): Promise<void> {
    await this.#replace(relative, body);
  }

  async #seqs(dir: string): Promise<{ name: string; seq: number; ext: string }[]> {
    const names = await readdir(join(this.publicDir, dir));
    const out: { name: string; seq: number; ext: string }[] = [];
    for (const name of names) {
      const tmp = name.startsWith('.') && name.endsWith('.tmp');
      const m = SEQ_FILE.exec(name);
      if (m !== null) out.push({ name, seq: Number(m[1]), ext: m[2]! });
      else if (tmp) out.push({ name, seq: Number.POSITIVE_INFINITY, ext: 'tmp' });
    }
    return out;
  }

  /** Writes a new file; refuses (store_failed) if the name already exists. */
  async #create(relative: string, body: string): Promise<void> {
    const path = join(this.publicDir, relative);
    const tmp = await this.#writeTemp(path, body);
    try {
      await link(tmp, path);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new PublisherError(
        'store_failed',
        code === 'EEXIST'
          ? `${relative} exists; published files are never rewritten`
          : `cannot write ${relative}`,
        { cause },
      );
    } finally {
      await unlink(tmp);
    }
    await fsyncDir(dirname(path));
  }

  async #replace(relative: string, body: string): Promise<void> {
    const path = join(this.publicDir, relative);
    const tmp = await this.#writeTemp(path, body);
    try {
      await rename(tmp, path);
    } catch (cause) {
      await unlink(tmp);
      throw new PublisherError('store_failed', `cannot replace ${relative}`, { cause });
    }
    await fsyncDir(dirname(path));
  }

  /** Hidden temp name in the target's directory (same file system, so link/rename are atomic). */
  async #writeTemp(path: string, body: string): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.${process.pid}.tmp`);
    try {
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (cause) {
      throw new PublisherError('store_failed', `cannot write ${tmp}`, { cause });
    }
    return tmp;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
