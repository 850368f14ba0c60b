/**
 * The final rounds on disk (issue 16): each final snapshot's district
 * protocols and `final/index.json`, the list of rounds the site reads.
 *
 * The snapshot is the commit point: its protocols are written after it,
 * derived from it (protocol.ts), so a crash in between leaves a final
 * snapshot as the chain head without its files; `open()` finishes them.
 * The index says which declarations already have a final, so a restarted
 * publisher does not declare the same event twice.
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PublisherError } from './errors.js';
import { districtProtocols, protocolHtml, protocolJson, signProtocol } from './protocol.js';
import { snapshotHash } from './signer.js';
import { FINAL_INDEX_PATH, finalPaths, LATEST_PATH, type Snapshot, snapshotPaths } from './snapshot.js';
import type { SnapshotStore } from './snapshot-store.js';

export interface FinalRound {
  readonly round: number;
  readonly seq: number;
  readonly hash: string;
  readonly takenAt: string;
  /** The `declared` event's id. */
  readonly declaration: string;
  /** Districts with a protocol in `final/<round>/`, config order. */
  readonly districts: readonly string[];
}

export class FinalFiles {
  readonly #store: SnapshotStore;
  readonly #key: KeyObject;
  #rounds: FinalRound[] = [];

  constructor(store: SnapshotStore, privateKey: KeyObject) {
    this.#store = store;
    this.#key = privateKey;
  }

  get rounds(): readonly FinalRound[] {
    return this.#rounds;
  }

  /** Whether a final was already published for this `declared` event. */
  declared(eventId: string): boolean {
    return this.#rounds.some((r) => r.declaration === eventId);
  }

  /** Reads the index; finishes the files of a final snapshot at the head whose publishing a crash cut short. Call after the store's `open()`. */
  async open(): Promise<void> {
    const text = await this.#read(FINAL_INDEX_PATH);
    const index = text === null ? { rounds: [] } : (JSON.parse(text) as { rounds: FinalRound[] });
    this.#rounds = index.rounds.filter((r) => r.seq <= this.#store.head.seq);
    const head = await this.#read(LATEST_PATH);
    if (head === null) return;
    const snapshot = JSON.parse(head) as Snapshot;
    if (snapshot.final !== undefined && !this.declared(snapshot.final.declaration))
      await this.publish(snapshot);
  }

  /** The previous round's final snapshot, or `null` before the first declaration. */
  async previous(): Promise<Snapshot | null> {
    const last = this.#rounds.at(-1);
    if (last === undefined) return null;
    const text = await this.#read(snapshotPaths(last.seq).json);
    if (text === null)
      throw new PublisherError('store_failed', `final round ${last.round}: snapshot ${last.seq} is missing`);
    return JSON.parse(text) as Snapshot;
  }

  /** Writes a published final snapshot's protocols (JSON + HTML per district), then the index. */
  async publish(snapshot: Snapshot): Promise<FinalRound> {
    const final = snapshot.final;
    if (final === undefined)
      throw new PublisherError('store_failed', `snapshot ${snapshot.seq} is not final`);
    const districts: string[] = [];
    for (const unsigned of districtProtocols(snapshot)) {
      const protocol = signProtocol(unsigned, this.#key);
      const paths = finalPaths(final.round, protocol.district.id);
      await this.#store.publishDerived(paths.json, protocolJson(protocol));
      await this.#store.publishDerived(paths.html, protocolHtml(protocol));
      districts.push(protocol.district.id);
    }
    const round: FinalRound = {
      round: final.round,
      seq: snapshot.seq,
      hash: snapshotHash(snapshot),
      takenAt: snapshot.takenAt,
      declaration: final.declaration,
      districts,
    };
    this.#rounds = [...this.#rounds.filter((r) => r.round < final.round), round];
    await this.#store.replace(FINAL_INDEX_PATH, `${JSON.stringify({ rounds: this.#rounds })}\n`);
    return round;
  }

  async #read(relative: string): Promise<string | null> {
    try {
      return await readFile(join(this.#store.publicDir, relative), 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new PublisherError('store_failed', `cannot read ${relative}`, { cause });
    }
  }
}
