/**
 * When voters arrive: an election day is not flat. The run is a list of
 * phases (off-peak, peak, off-peak by default), each with its share of the
 * voters spread over its seconds as a Poisson process (exponential gaps,
 * seeded), so the insider harness sees both crowded and sparse mixing
 * windows. Arrivals are dealt round-robin to the voter processes, each list
 * ascending (`VoterWorkerInit.arrivalsMs`).
 */
import { type Random, seeded } from '../chaos/random.js';

export interface Phase {
  readonly name: 'peak' | 'off-peak';
  readonly seconds: number;
  /** Share of all voters who arrive in this phase. */
  readonly share: number;
}

export interface Arrival {
  /** ms after the start. */
  readonly atMs: number;
  readonly phase: Phase['name'];
}

/** Off-peak 30 %, peak 40 % (of the time): the peak carries 80 % of the voters. */
export function defaultPhases(seconds: number): Phase[] {
  const off = Math.round(seconds * 0.3);
  return [
    { name: 'off-peak', seconds: off, share: 0.1 },
    { name: 'peak', seconds: seconds - 2 * off, share: 0.8 },
    { name: 'off-peak', seconds: off, share: 0.1 },
  ];
}

/** `voters` arrival times over the phases, ascending. */
export function arrivals(voters: number, phases: readonly Phase[], seed: number): Arrival[] {
  const rng: Random = seeded(seed ^ 0x5bd1e995);
  const out: Arrival[] = [];
  let startMs = 0;
  let placed = 0;
  phases.forEach((phase, i) => {
    const count = i === phases.length - 1 ? voters - placed : Math.round(voters * phase.share);
    const spanMs = phase.seconds * 1000;
    // Exponential gaps, rescaled to fill the phase: Poisson arrivals conditioned on the count.
    const gaps: number[] = [];
    let sum = 0;
    for (let j = 0; j <= count; j++) {
      const gap = -Math.log(Math.max(rng(), Number.EPSILON));
      gaps.push(gap);
      sum += gap;
    }
    let at = 0;
    for (let j = 0; j < count; j++) {
      at += gaps[j]!;
      out.push({ atMs: startMs + (at / sum) * spanMs, phase: phase.name });
    }
    placed += count;
    startMs += spanMs;
  });
  return out;
}

/** Deals arrivals round-robin to `workers` voter processes; each list ascending. */
export function dealArrivals(all: readonly Arrival[], workers: number): number[][] {
  const lists: number[][] = Array.from({ length: workers }, () => []);
  all.forEach((a, i) => {
    lists[i % workers]!.push(Math.round(a.atMs));
  });
  return lists;
}
