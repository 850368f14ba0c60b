/**
 * The ballot mix alone (ingest/ledger/mix.ts), no stack: a district's batch
 * leaves at k or at T, whichever first, each district on its own; a stop
 * releases everything at once and later items pass straight through; every
 * item leaves exactly once; and batches are shuffled (not arrival order).
 */
import { describe, expect, it } from 'vitest';
import { Mix, type MixInfo } from '../ingest/ledger/mix.js';

function mix(minBallots: number, maxWaitMs: number) {
  const released: number[][] = [];
  const infos: MixInfo[] = [];
  const m = new Mix<number>({
    minBallots,
    maxWaitMs,
    release: (batch) => released.push([...batch]),
    onBatch: (info) => infos.push(info),
  });
  return { m, released, infos };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ballot mix', () => {
  it('releases a district’s batch as soon as it holds k, each district on its own', () => {
    const { m, released, infos } = mix(3, 60_000);
    m.hold('A', 1);
    m.hold('B', 100);
    m.hold('A', 2);
    expect(released).toEqual([]);
    m.hold('A', 3);
    expect(released.map((b) => [...b].sort())).toEqual([[1, 2, 3]]);
    expect(infos.map((i) => [i.size, i.closedBy])).toEqual([[3, 'k']]);
    m.close();
    expect(released.at(-1)).toEqual([100]);
  });

  it('releases what gathered when the first has waited T', async () => {
    const { m, released, infos } = mix(50, 100);
    m.hold('A', 1);
    await sleep(40);
    m.hold('A', 2);
    await sleep(30);
    expect(released).toEqual([]);
    await sleep(80);
    expect(released.map((b) => [...b].sort())).toEqual([[1, 2]]);
    expect(infos[0]!.closedBy).toBe('t');
    expect(infos[0]!.holdSec).toBeGreaterThanOrEqual(0.09);
  });

  it('on close releases every district at once, then lets items through one by one', () => {
    const { m, released, infos } = mix(50, 60_000);
    m.hold('A', 1);
    m.hold('B', 2);
    m.hold('A', 3);
    m.close();
    expect(released.map((b) => [...b].sort()).sort()).toEqual([[1, 3], [2]]);
    m.hold('A', 4);
    expect(released.at(-1)).toEqual([4]);
    expect(infos.every((i) => i.closedBy === 'shutdown')).toBe(true);
    expect(released.flat().sort()).toEqual([1, 2, 3, 4]);
  });

  it('shuffles each batch: over many batches, arrival order is not kept', () => {
    const { m, released } = mix(8, 60_000);
    for (let i = 0; i < 8 * 200; i++) m.hold('A', i % 8);
    expect(released).toHaveLength(200);
    for (const batch of released) expect([...batch].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Each of 8 slots takes each value about 1/8 of the time; in arrival order slot i always held i.
    const firstSlot = new Map<number, number>();
    for (const batch of released) firstSlot.set(batch[0]!, (firstSlot.get(batch[0]!) ?? 0) + 1);
    expect(firstSlot.size).toBe(8);
    expect(Math.max(...firstSlot.values())).toBeLessThan(80);
    m.close();
  });
});
