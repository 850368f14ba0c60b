/**
 * FIRST RECORD WINS (DESIGN §4, §5) — the one definition every count follows.
 * With re-voting: HIGHEST REVISION WINS, FIRST IN THE LOG AMONG EQUALS.
 *
 * For each (election, ballotId), the ballot that counts is the `ballots`
 * record with the highest `rev` and, among those, the smallest (partition,
 * offset) among the election's valid records with that ballotId. Without
 * re-voting every record carries rev 0 and this is the first record.
 * (Ingest writes a revision above 0 only for an election with `revoting`.)
 * Among the records of one ballotId Ingest writes every record of a ballotId to one
 * partition (the region's partition set, picked by ballotId:
 * ingest/ledger/entries.ts), so this is simply "the first record in its
 * partition's log". The partition number only decides between partitions for
 * a ballotId found in two of them, which ingest never writes (a region's
 * partition set changed mid-election, or a foreign producer): ranking by it
 * keeps the answer a function of the log alone, the same for a fresh scan
 * and for one resumed from a checkpoint, whatever order fetches return in.
 *
 * Every other record of the ballotId is
 *
 *   same ballotHash       a duplicate (a client retry, a redelivery, or a revision
 *                         with the same choices): counts once, as before;
 *   different ballotHash  a conflict (a second ballot under one credential) or an
 *                         outranked revision. It never counts: the ballotId counts
 *                         once, with the winner's choices.
 *
 * A ballotId is "conflicted" when its records carry more than one ballotHash
 * (a re-vote that changed the choices is one too: its winner is recorded).
 * Conflicts are reported by count, never by content, and never block publishing.
 *
 * Who applies the rule:
 *
 *   reconcile (ballot-scan.ts)  reads the log in order with a {@link FirstRecordIndex},
 *                               and writes the winner of every conflicted ballotId to
 *                               ClickHouse `revision_winners` (migration 7) as its
 *                               revision, (partition, offset) and ballotHash;
 *   every counting query        (queries.ts, through conflicts.ts) counts a conflicted
 *                               ballotId once, as the stored record of the highest
 *                               revision when it alone has it, else the one whose hash
 *                               is the winner's ({@link WINNER_RANK_SQL} picks it), and
 *                               not at all while that is not known: a snapshot
 *                               taken meanwhile misses one ballot, never counts two.
 *
 * ClickHouse alone cannot apply it: 18.16's Kafka engine exposes no offsets.
 */
import { createHash } from 'node:crypto';

/** Where a record sits in the log. */
export interface LogPosition {
  readonly partition: number;
  readonly offset: number;
}

/** Whether the record at `a` comes before the one at `b` in the log. */
export function precedes(a: LogPosition, b: LogPosition): boolean {
  return a.partition < b.partition || (a.partition === b.partition && a.offset < b.offset);
}

/** A record's place under the rule: its revision, then its place in the log. */
export interface Ranked extends LogPosition {
  readonly rev: number;
}

/** Whether the record `a` wins over `b` under the rule: a higher revision, or the same one earlier. */
export function outranks(a: Ranked, b: Ranked): boolean {
  return a.rev > b.rev || (a.rev === b.rev && precedes(a, b));
}

/**
 * The rule's order as a ClickHouse expression over `revision_winners` columns:
 * the winner of a ballotId is `argMin(ballot_hash, <this>)`: the highest
 * revision (rev ≤ 2^32 − 1: UInt32), then the log position (2^40 offsets per
 * partition, a trillion records, keeps it inside UInt64). A tuple compares
 * element by element in ClickHouse 18.16 and current alike.
 */
export const WINNER_RANK_SQL = '(4294967295 - rev, log_partition * 1099511627776 + log_offset)';

/** The winner of one ballotId: its hash, revision and place in the log (what `revision_winners` records). */
export interface Winner extends Ranked {
  readonly ballotId: string;
  readonly ballotHash: string;
}

/** One winner as a checkpoint stores it (first-record's own encoding of the hash). */
export interface IndexEntry extends Ranked {
  readonly ballotId: string;
  /** The hash's 32 bytes, SHA-256 hex decoded (ignored when `oddHash` is set). */
  readonly digest: Uint8Array;
  /** The hash itself when it is not lowercase SHA-256 hex; null otherwise. */
  readonly oddHash: string | null;
}

/** What one record is, for the ballotId it carries. */
export type Observation =
  /** The first record of the ballotId seen: it counts. */
  | 'first'
  /** Same ballotHash as the winner: nothing changes. */
  | 'duplicate'
  /** Another ballotHash, later in the order: it never counts. */
  | 'conflict'
  /**
   * Outranks the winner seen so far (a higher revision, or the same one earlier in
   * another partition): it counts instead; see `displaced`.
   */
  | 'displaces';

const HASH_BYTES = 32;
const HEX_HASH = /^[0-9a-f]{64}$/;
const INITIAL_SLOTS = 1 << 12;

/**
 * The winner so far of every ballotId of one election: ballotId → slot, and
 * per slot the winner's ballotHash (32 bytes), partition and offset.
 *
 *   #slots  Map<ballotId, slot>      ~85–100 B per entry with its string (V8)
 *   #idOf   string[slot]             the same strings, 8 B per slot
 *   #hashes Buffer   [slot*32 … +32) SHA-256 hex decoded; other strings: SHA-256 of them
 *   #parts  Int32Array[slot]
 *   #offs   Float64Array[slot]
 *   #revs   Uint32Array[slot]
 *
 * Measured (reconcile-bench.ts, heap and buffers, growth slack included):
 * ~165 bytes per ballot, 66 MB for 400,000 ballots, 128 MB for 800,000
 * (before `#revs`, which adds 4 bytes a slot).
 * Hashes are compared as bytes, never truncated: a collision would turn a
 * conflict into a duplicate, so a voter able to grind one must not exist.
 */
export class FirstRecordIndex {
  readonly #slots = new Map<string, number>();
  /** slot → ballotId (the same strings as the map's keys). */
  readonly #idOf: string[] = [];
  #hashes = Buffer.alloc(INITIAL_SLOTS * HASH_BYTES);
  #parts = new Int32Array(INITIAL_SLOTS);
  #offs = new Float64Array(INITIAL_SLOTS);
  #revs = new Uint32Array(INITIAL_SLOTS);
  /** Hash strings that are not lowercase SHA-256 hex, by slot (never, from ingest). */
  readonly #oddHashes = new Map<number, string>();
  /** BallotIds whose records carry more than one ballotHash. */
  readonly conflicted = new Set<string>();
  /** Slots created or changed since {@link takeChanged}, in order. */
  #changed: number[] = [];
  /** After `displaces`: where the winner that lost its place was. */
  displaced: LogPosition = { partition: -1, offset: -1 };
  readonly #scratch = Buffer.alloc(HASH_BYTES);

  get size(): number {
    return this.#slots.size;
  }

  /**
   * Applies the rule to one record; the caller counts `first` and `displaces`.
   * A record that outranks the winner with the same hash (a revision with the
   * same choices) takes its place without changing any count: `duplicate`.
   */
  observe(ballotId: string, ballotHash: string, rev: number, partition: number, offset: number): Observation {
    const slot = this.#slots.get(ballotId);
    if (slot === undefined) {
      this.#set(this.#newSlot(ballotId), ballotHash, rev, partition, offset);
      return 'first';
    }
    const same = this.#sameHash(slot, ballotHash);
    if (!same) this.conflicted.add(ballotId);
    const at = { partition: this.#parts[slot]!, offset: this.#offs[slot]!, rev: this.#revs[slot]! };
    if (!outranks({ partition, offset, rev }, at)) return same ? 'duplicate' : 'conflict';
    this.#set(slot, ballotHash, rev, partition, offset);
    if (same) return 'duplicate';
    this.displaced = at;
    return 'displaces';
  }

  /** The winner of `ballotId` so far, or null if no record of it was seen. */
  winner(ballotId: string): Omit<Winner, 'ballotId'> | null {
    const slot = this.#slots.get(ballotId);
    if (slot === undefined) return null;
    const ballotHash =
      this.#oddHashes.get(slot) ?? this.#hashes.toString('hex', slot * HASH_BYTES, (slot + 1) * HASH_BYTES);
    return { ballotHash, rev: this.#revs[slot]!, partition: this.#parts[slot]!, offset: this.#offs[slot]! };
  }

  /** Slots created or changed since the last call (each once, in order): what a checkpoint appends. */
  takeChanged(): number[] {
    const slots = [...new Set(this.#changed)];
    this.#changed = [];
    return slots;
  }

  /** Every slot, in order (a checkpoint written from scratch); forgets the changed list. */
  takeAll(): number[] {
    this.#changed = [];
    return Array.from({ length: this.#idOf.length }, (_, slot) => slot);
  }

  /** One slot as a checkpoint stores it: the hash as its 32 bytes (a view), or the odd string. */
  entry(slot: number): IndexEntry {
    return {
      ballotId: this.#idOf[slot]!,
      digest: this.#hashes.subarray(slot * HASH_BYTES, (slot + 1) * HASH_BYTES),
      oddHash: this.#oddHashes.get(slot) ?? null,
      rev: this.#revs[slot]!,
      partition: this.#parts[slot]!,
      offset: this.#offs[slot]!,
    };
  }

  /** Restores a winner from a checkpoint; a later call for one id overrides an earlier one. Not "changed". */
  restore(entry: IndexEntry): void {
    const slot = this.#slots.get(entry.ballotId) ?? this.#newSlot(entry.ballotId);
    if (entry.oddHash === null) {
      this.#hashes.set(entry.digest, slot * HASH_BYTES);
      this.#oddHashes.delete(slot);
    } else {
      this.#digest(entry.oddHash).copy(this.#hashes, slot * HASH_BYTES);
      this.#oddHashes.set(slot, entry.oddHash);
    }
    this.#revs[slot] = entry.rev;
    this.#parts[slot] = entry.partition;
    this.#offs[slot] = entry.offset;
  }

  #newSlot(ballotId: string): number {
    const slot = this.#slots.size;
    if (slot === this.#parts.length) this.#grow();
    this.#slots.set(ballotId, slot);
    this.#idOf.push(ballotId);
    return slot;
  }

  #set(slot: number, ballotHash: string, rev: number, partition: number, offset: number): void {
    this.#digest(ballotHash).copy(this.#hashes, slot * HASH_BYTES);
    if (HEX_HASH.test(ballotHash)) this.#oddHashes.delete(slot);
    else this.#oddHashes.set(slot, ballotHash);
    this.#revs[slot] = rev;
    this.#parts[slot] = partition;
    this.#offs[slot] = offset;
    this.#changed.push(slot);
  }

  #sameHash(slot: number, ballotHash: string): boolean {
    return this.#digest(ballotHash).equals(this.#hashes.subarray(slot * HASH_BYTES, (slot + 1) * HASH_BYTES));
  }

  /** 32 bytes for a hash string: hex decoded when it is lowercase SHA-256 hex (always, from ingest). */
  #digest(ballotHash: string): Buffer {
    if (HEX_HASH.test(ballotHash)) {
      this.#scratch.write(ballotHash, 'hex');
      return this.#scratch;
    }
    return createHash('sha256').update(`odd:${ballotHash}`).digest();
  }

  #grow(): void {
    const slots = this.#parts.length * 2;
    const hashes = Buffer.alloc(slots * HASH_BYTES);
    this.#hashes.copy(hashes);
    this.#hashes = hashes;
    const parts = new Int32Array(slots);
    parts.set(this.#parts);
    this.#parts = parts;
    const offs = new Float64Array(slots);
    offs.set(this.#offs);
    this.#offs = offs;
    const revs = new Uint32Array(slots);
    revs.set(this.#revs);
    this.#revs = revs;
  }
}
