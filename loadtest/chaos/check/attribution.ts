/**
 * Which fault preceded each violation: for every listed ballotId, the moment
 * its second version happened (the later of its versions' first send or
 * acknowledgement); for every listed voter, the moment their second
 * credential was issued. The fault that started last before that moment is
 * "the preceding fault"; counts are kept per verdict list and fault.
 *
 *   { "A.superseded": { "#7 redis-lose": 12, "#9 kafka-broker-kill": 3 }, … }
 */
import type { FaultRecord } from '../nemesis.js';
import type { HistoryIndex } from './history-index.js';
import type { Verdict } from './verdicts.js';

export type Attribution = Record<string, Record<string, number>>;

/** ms since the run started of the event that made `id` (a ballotId or voterHash) a violation; null if unknown. */
function eventT(history: HistoryIndex, id: string): number | null {
  const versions = history.ballots.get(id);
  if (versions !== undefined) {
    let t: number | null = null;
    for (const v of versions.values()) {
      const at = v.okT ?? v.firstSentT;
      if (at !== null && (t === null || at > t)) t = at;
    }
    return t;
  }
  const voter = history.voters.get(id);
  if (voter !== undefined) {
    const times = [...voter.okBlindedT.values()].sort((a, b) => a - b);
    return times[1] ?? times[0] ?? null;
  }
  return null;
}

function precedingFault(faults: readonly FaultRecord[], tSec: number): string {
  let best: FaultRecord | null = null;
  for (const f of faults) {
    if (f.startSec !== null && f.startSec <= tSec && (best === null || f.startSec > best.startSec!)) best = f;
  }
  return best === null ? 'before any fault' : `#${best.n} ${best.kind}`;
}

export function attribute(
  verdicts: readonly Verdict[],
  history: HistoryIndex,
  faults: readonly FaultRecord[],
): Attribution {
  const out: Attribution = {};
  for (const v of verdicts) {
    for (const [list, violations] of Object.entries(v.violations)) {
      const counts: Record<string, number> = {};
      let known = 0;
      for (const id of violations.ids) {
        const t = eventT(history, id);
        if (t === null) continue;
        known++;
        const key = precedingFault(faults, t / 1000);
        counts[key] = (counts[key] ?? 0) + 1;
      }
      if (known > 0) out[`${v.id}.${list}`] = counts;
    }
  }
  return out;
}
