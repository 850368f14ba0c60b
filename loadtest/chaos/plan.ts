/**
 * The fault plan: which faults, against what, in which order and with what
 * pauses between them, drawn from the seed (Jepsen's nemesis schedule).
 *
 *   window  |warm-up|──gap──[fault]──gap──[fault]── … ──gap──|cool-down|
 *
 * Every kind asked for appears at least once when the count allows; broker
 * kills then take each broker in turn; the rest are drawn at random. Faults
 * run one after another on one lane, or, with `overlap`, one lane per
 * component group (`faults.ts`: a Kafka fault may then overlap a Redis fault,
 * never another Kafka fault). Gaps are random shares of the lane's free time, so faults land at
 * random times; a lane that cannot fit its faults is an error that says how
 * long the window must be.
 */
import { FAULTS, type FaultKind, GROUP_OF, type Group, type HoldSettings } from './faults.js';
import { type Random, seeded, shuffle } from './random.js';

export interface PlannedFault {
  /** 1-based, in plan order. */
  readonly n: number;
  readonly kind: FaultKind;
  /** The lane it runs on: its component group, or `all` when faults never overlap. */
  readonly lane: Group | 'all';
  /** Broker name for broker faults (`kafka-2`); null: chosen when injected. */
  readonly target: string | null;
  /** Pause on its lane before it starts, after the previous fault there ended. */
  readonly gapMs: number;
  readonly holdMs: number;
}

export interface PlanOptions {
  readonly count: number;
  readonly kinds: readonly FaultKind[];
  readonly seed: number;
  readonly windowMs: number;
  readonly overlap: boolean;
  readonly brokers: readonly string[];
  readonly holds: HoldSettings;
}

export interface Plan {
  readonly faults: readonly PlannedFault[];
  readonly warmupMs: number;
  readonly cooldownMs: number;
}

export class PlanError extends Error {}

/** No fault in the first 5 % of the window (at least 6 s): the system is measured healthy first. */
export const warmupMs = (windowMs: number): number => Math.max(6_000, windowMs * 0.05);
/** The last fault heals at least this long before arrivals end, so recovery is measured under load. */
export const cooldownMs = (windowMs: number): number => Math.max(6_000, windowMs * 0.08);

function chooseKinds(rng: Random, o: PlanOptions): FaultKind[] {
  if (o.kinds.length === 0) throw new PlanError('no fault kinds to plan');
  if (o.count <= o.kinds.length) return shuffle(rng, [...o.kinds]).slice(0, o.count);
  const chosen = [...o.kinds];
  // One kill per broker, when there is room for it.
  if (o.kinds.includes('kafka-broker-kill')) {
    for (let i = 1; i < o.brokers.length && chosen.length < o.count; i++) chosen.push('kafka-broker-kill');
  }
  while (chosen.length < o.count) chosen.push(o.kinds[Math.floor(rng() * o.kinds.length)]!);
  return chosen;
}

export function planFaults(o: PlanOptions): Plan {
  const rng = seeded(o.seed);
  const kinds = shuffle(rng, chooseKinds(rng, o));
  let brokerTurn = Math.floor(rng() * o.brokers.length);
  const drafts = kinds.map((kind) => {
    let target: string | null = null;
    if (kind === 'kafka-broker-kill') target = o.brokers[brokerTurn++ % o.brokers.length]!;
    if (kind === 'kafka-broker-stall') target = o.brokers[Math.floor(rng() * o.brokers.length)]!;
    const lane: Group | 'all' = o.overlap ? GROUP_OF[FAULTS[kind].lane] : 'all';
    return { kind, target, lane, holdMs: FAULTS[kind].holdMs(o.holds) };
  });
  const warm = warmupMs(o.windowMs);
  const cool = cooldownMs(o.windowMs);
  const available = o.windowMs - warm - cool;
  const gaps = new Map<(typeof drafts)[number], number>();
  for (const lane of new Set(drafts.map((d) => d.lane))) {
    const mine = drafts.filter((d) => d.lane === lane);
    const busy = mine.reduce((sum, d) => sum + d.holdMs + FAULTS[d.kind].healEstimateMs(o.holds), 0);
    const free = available - busy;
    if (free < 0) {
      const needSec = Math.ceil((o.windowMs - free) / 1000);
      throw new PlanError(
        `the ${lane === 'all' ? 'faults' : `${lane} faults`} need about ${Math.round(busy / 1000)} s plus warm-up and cool-down: ` +
          `use --seconds ${needSec} or more, fewer --faults${o.overlap ? '' : ', or --overlap'}`,
      );
    }
    // Random shares of the free time: one gap before each fault and a slack after the last.
    const weights = Array.from({ length: mine.length + 1 }, () => 0.2 + rng());
    const total = weights.reduce((a, b) => a + b, 0);
    mine.forEach((d, i) => {
      gaps.set(d, (weights[i]! / total) * free + (i === 0 ? warm : 0));
    });
  }
  return {
    faults: drafts.map((d, i) => ({ n: i + 1, ...d, gapMs: Math.round(gaps.get(d)!) })),
    warmupMs: warm,
    cooldownMs: cool,
  };
}
