/**
 * The insider's linking attack. Two insiders, each told something true about
 * a set of target voters (with the pepper, every voterHash in the stores is a
 * known member, so "the target" means "their voterHash and district"):
 *
 *   issuance  when the target got their credential (the brief's insider:
 *             issuance is logged by the identity side, a log an operator sees)
 *   cast      when the target pressed "cast" (watched, or told to vote at an
 *             agreed moment): the insider the mixing window is promised against
 *
 * For each clock (`clocks.ts`) and each target, the insider ranks the
 * ballots of the target's district and names the best: for `cast`, the one
 * whose estimated arrival is nearest the cast time plus the system's delay;
 * for `issuance`, the one whose gap from the issuance (less the delay) is
 * the likeliest think time under the voters' think-time distribution (known
 * to the insider: it can be measured from the aggregate counts). The delay
 * is calibrated as the median gap between a cast and its ballot's estimate,
 * which an insider measures by voting with test credentials of their own.
 * Ties are counted fairly: a guess among t equally ranked ballots, one of
 * them right, scores 1/t.
 */

import type { ThinkTime } from '../chaos/voters/protocol.js';
import type { Ballot, Clock } from './clocks.js';
import type { Truth } from './ground-truth.js';

export type InsiderKind = 'issuance' | 'cast';

export interface AttackResult {
  readonly targets: number;
  /** Expected share of targets linked to their ballot (ties scored 1/t). */
  readonly success: number;
  /** Targets the clock had no estimate for (counted as failures). */
  readonly unknown: number;
  readonly delayMs: number;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** The median gap between a known time of a target and its ballot on `clock` (what test ballots measure). */
export function delayOf(targets: readonly Truth[], clock: Clock, known: (t: Truth) => number): number {
  return median(
    targets.flatMap((t) => {
      const at = clock.get(t.ballotId);
      return at === undefined ? [] : [at - known(t)];
    }),
  );
}

/** ln of the log-normal density, up to a constant (enough to rank). */
function thinkScore(gapMs: number, think: ThinkTime): number {
  if (gapMs <= 0) return Number.NEGATIVE_INFINITY;
  if (gapMs > think.maxMs + 5_000) return Number.NEGATIVE_INFINITY;
  const z = (Math.log(gapMs) - Math.log(think.medianMs)) / think.sigma;
  return -Math.log(gapMs) - (z * z) / 2;
}

export function attack(
  kind: InsiderKind,
  targets: readonly Truth[],
  ballots: readonly Ballot[],
  clock: Clock,
  think: ThinkTime | null,
): { result: AttackResult; perTarget: Map<string, number> } {
  const delayMs = delayOf(targets, clock, (t) => t.castMs);
  const byDistrict = new Map<string, { id: string; at: number }[]>();
  for (const b of ballots) {
    const at = clock.get(b.ballotId);
    if (at === undefined) continue;
    const list = byDistrict.get(b.district) ?? [];
    list.push({ id: b.ballotId, at });
    byDistrict.set(b.district, list);
  }
  const perTarget = new Map<string, number>();
  let sum = 0;
  let unknown = 0;
  for (const t of targets) {
    const candidates = byDistrict.get(t.district) ?? [];
    if (!clock.has(t.ballotId)) unknown++;
    const score = (at: number): number =>
      kind === 'cast'
        ? -Math.abs(at - delayMs - t.castMs)
        : think === null
          ? -Math.abs(at - delayMs - t.issuedMs)
          : thinkScore(at - delayMs - t.issuedMs, think);
    let best = Number.NEGATIVE_INFINITY;
    let ties = 0;
    let mine = false;
    for (const c of candidates) {
      const s = score(c.at);
      if (s > best + 1e-9) {
        best = s;
        ties = 1;
        mine = c.id === t.ballotId;
      } else if (Math.abs(s - best) <= 1e-9) {
        ties++;
        if (c.id === t.ballotId) mine = true;
      }
    }
    const p = mine && best > Number.NEGATIVE_INFINITY ? 1 / ties : 0;
    perTarget.set(t.ballotId, p);
    sum += p;
  }
  return {
    result: {
      targets: targets.length,
      success: targets.length === 0 ? 0 : sum / targets.length,
      unknown,
      delayMs: Math.round(delayMs),
    },
    perTarget,
  };
}

/**
 * How far above chance the attacker may land before the run fails: three
 * standard deviations of the success rate of an attacker who guesses at
 * chance (a sum of Bernoulli(1/|A|) over n targets: σ = √Σp(1−p) / n), plus
 * one point for windows that the system closes on its own clock rather than
 * on the voters' send times the chance is computed from.
 */
export function marginOf(chances: readonly number[]): number {
  const n = chances.length;
  if (n === 0) return 1;
  const variance = chances.reduce((s, p) => s + p * (1 - p), 0);
  return (3 * Math.sqrt(variance)) / n + 0.01;
}
