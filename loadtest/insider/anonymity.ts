/**
 * The chance rate, from the design's promise and the ground truth alone —
 * never from what the code under test does (a system that writes each ballot
 * alone would otherwise make chance 1 and pass trivially):
 *
 *   a ballot is indistinguishable among the ballots of its district in its
 *   mixing window; a window opens with the first ballot that finds none open
 *   and closes once it holds k ballots or T ms have passed since it opened.
 *
 * Windows are formed per `scope` (a district: each district mixes alone; a
 * region: the region's districts share a window, and the anonymity set is
 * still only the target's district's ballots in it) over the true cast times
 * (`ground-truth.ts`). A target's anonymity set A is its window's ballots of
 * its district; chance = mean 1/|A| over the targets.
 */
import type { Truth } from './ground-truth.js';

export type MixScope = 'district' | 'region';

export interface MixPromise {
  /** k: a window closes once it holds this many ballots. */
  readonly minBallots: number;
  /** T: or once this long has passed since its first ballot, ms. */
  readonly maxWaitMs: number;
  readonly scope: MixScope;
}

/** ballotId → the ballotIds of its anonymity set (itself included). */
export type AnonymitySets = Map<string, readonly string[]>;

export function anonymitySets(truth: readonly Truth[], promise: MixPromise): AnonymitySets {
  const groups = new Map<string, Truth[]>();
  for (const t of truth) {
    const key = promise.scope === 'district' ? t.district : t.region;
    const list = groups.get(key) ?? [];
    list.push(t);
    groups.set(key, list);
  }
  const sets: AnonymitySets = new Map();
  for (const list of groups.values()) {
    list.sort((a, b) => a.castMs - b.castMs);
    let window: Truth[] = [];
    const close = (): void => {
      const byDistrict = new Map<string, string[]>();
      for (const t of window) {
        const ids = byDistrict.get(t.district) ?? [];
        ids.push(t.ballotId);
        byDistrict.set(t.district, ids);
      }
      for (const ids of byDistrict.values()) for (const id of ids) sets.set(id, ids);
      window = [];
    };
    for (const t of list) {
      if (window.length > 0 && t.castMs - window[0]!.castMs >= promise.maxWaitMs) close();
      window.push(t);
      if (window.length >= promise.minBallots) close();
    }
    if (window.length > 0) close();
  }
  return sets;
}

export interface SizeStats {
  readonly targets: number;
  /** Mean 1/|A|. */
  readonly chance: number;
  readonly p10: number;
  readonly median: number;
  readonly p90: number;
  /** Targets alone in their set (|A| = 1). */
  readonly alone: number;
}

export function sizeStats(sizes: readonly number[]): SizeStats {
  const sorted = [...sizes].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    targets: sorted.length,
    chance: sorted.length === 0 ? 0 : sorted.reduce((s, n) => s + 1 / n, 0) / sorted.length,
    p10: at(0.1),
    median: at(0.5),
    p90: at(0.9),
    alone: sorted.filter((n) => n === 1).length,
  };
}
