/**
 * `snapshots/index.json`: the published chain at a glance, newest first, so
 * the site can list past snapshots with their hashes without fetching each
 * one. Every entry is a function of one snapshot file (its `hash` is exactly
 * the next snapshot's `prevHash`), so the index can always be rebuilt from
 * the files, and verify recomputes it from the chain it walked.
 */
import { snapshotHash } from './signer.js';
import type { Snapshot, SnapshotIndex, SnapshotIndexEntry } from './snapshot.js';

/** `hash` may be passed when already computed (the canonical form of a large snapshot is not free). */
export function snapshotIndexEntry(s: Snapshot, hash = snapshotHash(s)): SnapshotIndexEntry {
  return {
    seq: s.seq,
    takenAt: s.takenAt,
    hash,
    prevHash: s.prevHash,
    codes: s.codes.count,
    final: s.final?.round ?? null,
  };
}

/** The file's text: one line per entry, so a diff of two versions reads as the snapshots added. */
export function snapshotIndexText(index: SnapshotIndex): string {
  const entries = index.snapshots.map((e) => JSON.stringify(e)).join(',\n');
  return `{"v":1,"election":${JSON.stringify(index.election)},"snapshots":[\n${entries}\n]}\n`;
}

/**
 * An index this publisher wrote, read back at start: the entries when they
 * run from some seq down to 1 without a gap, else `null` (rebuild it).
 */
export function readSnapshotIndex(text: string | null): SnapshotIndexEntry[] | null {
  if (text === null) return null;
  try {
    const index = JSON.parse(text) as SnapshotIndex;
    if (index.v !== 1 || !Array.isArray(index.snapshots)) return null;
    const entries = index.snapshots;
    if (entries.some((e, i) => e?.seq !== entries.length - i || typeof e.hash !== 'string')) return null;
    return [...entries];
  } catch {
    return null;
  }
}
