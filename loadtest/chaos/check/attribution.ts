/**
 * Which faults a violation happened under. Each listed id is given a window
 * of the client's history:
 *
 *   ballotId   from the first send of any of its versions to the last
 *              acknowledgement (or, if none, the last first send)
 *   voter      from their first credential to their second
 *
 * Every fault that overlaps the window counts once for the id (a voter's
 * second credential after a Redis wipe shows the wipe between the two, not
 * only the fault that happened to come last). A window no fault overlaps
 * counts for the fault that started last before it, or "before any fault".
 * Lists of tally cells and a stale snapshot's missing codes are not dated.
 *
 *   { "A.superseded": { "#6 redis-flushall": 28, "#7 ingest-supervisor-kill": 12 }, … }
 */
import type { FaultRecord } from '../nemesis.js';
import type { HistoryIndex } from './history-index.js';
import type { Verdict } from './verdicts.js';

export type Attribution = Record<string, Record<string, number>>;

/** [from, to] in s since the run started, or null when the history does not date the id. */
function windowOf(history: HistoryIndex, id: string): [number, number] | null {
  const versions = history.ballots.get(id);
  if (versions !== undefined) {
    const sent = [...versions.values()].flatMap((v) => (v.firstSentT === null ? [] : [v.firstSentT]));
    const done = [...versions.values()].flatMap((v) => (v.okT === null ? [] : [v.okT]));
    if (sent.length === 0) return null;
    return [Math.min(...sent) / 1000, Math.max(...(done.length > 0 ? done : sent)) / 1000];
  }
  const times = [...(history.voters.get(id)?.okBlindedT.values() ?? [])].sort((a, b) => a - b);
  if (times.length === 0) return null;
  return [times[0]! / 1000, times[Math.min(1, times.length - 1)]! / 1000];
}

const label = (f: FaultRecord): string => `#${f.n} ${f.kind}`;

function faultsIn(faults: readonly FaultRecord[], [from, to]: [number, number]): string[] {
  const ran = faults.filter((f): f is FaultRecord & { startSec: number } => f.startSec !== null);
  const overlapping = ran.filter((f) => f.startSec <= to && (f.endSec ?? Number.POSITIVE_INFINITY) >= from);
  if (overlapping.length > 0) return overlapping.map(label);
  const before = ran.filter((f) => f.startSec <= from).sort((a, b) => b.startSec - a.startSec)[0];
  return [before === undefined ? 'before any fault' : label(before)];
}

export function attribute(
  verdicts: readonly Verdict[],
  history: HistoryIndex,
  faults: readonly FaultRecord[],
): Attribution {
  const out: Attribution = {};
  for (const v of verdicts) {
    for (const [list, violations] of Object.entries(v.violations)) {
      // A stale snapshot misses whatever came after it: not a per-ballot event.
      if (list.startsWith('snapshot')) continue;
      const counts: Record<string, number> = {};
      for (const id of violations.ids) {
        const window = windowOf(history, id);
        if (window === null) continue;
        for (const key of faultsIn(faults, window)) counts[key] = (counts[key] ?? 0) + 1;
      }
      if (Object.keys(counts).length > 0) out[`${v.id}.${list}`] = counts;
    }
  }
  return out;
}
