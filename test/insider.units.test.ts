/**
 * The insider harness's pure parts: the promise's windows and chance, the
 * margin, the rank clock, and the scans on hand-made units (a turnout-like
 * row with both kinds of digests, an idle clock on a ballot key, a ballot
 * record on a whole minute).
 */
import { describe, expect, it } from 'vitest';
import { anonymitySets, sizeStats } from '../loadtest/insider/anonymity.js';
import { arrivals, dealArrivals, defaultPhases } from '../loadtest/insider/arrivals.js';
import { attack, marginOf } from '../loadtest/insider/attack.js';
import { alignedClock, type Ballot, rankClock } from '../loadtest/insider/clocks.js';
import { unit } from '../loadtest/insider/evidence/unit.js';
import type { Truth } from '../loadtest/insider/ground-truth.js';
import { type Identifiers, scan } from '../loadtest/insider/scans.js';

const truth = (id: string, district: string, castMs: number, region = 'R'): Truth => ({
  voterHash: `v${id}`,
  district,
  region,
  issuedMs: castMs - 1000,
  castMs,
  ballotId: id,
});

describe('anonymity sets', () => {
  it('close a window at k ballots or T ms, per district', () => {
    const ts = [
      truth('a', 'D1', 0),
      truth('b', 'D1', 100),
      truth('c', 'D1', 200), // k = 3: closes here
      truth('d', 'D1', 300),
      truth('e', 'D1', 1400), // T = 1000 after d: d alone
      truth('x', 'D2', 150),
    ];
    const sets = anonymitySets(ts, { minBallots: 3, maxWaitMs: 1000, scope: 'district' });
    expect(sets.get('a')).toEqual(['a', 'b', 'c']);
    expect(sets.get('d')).toEqual(['d']);
    expect(sets.get('e')).toEqual(['e']);
    expect(sets.get('x')).toEqual(['x']);
    expect(sizeStats([3, 3, 3, 1, 1, 1]).chance).toBeCloseTo((3 * (1 / 3) + 3) / 6);
  });

  it('per region: a shared window, but the set is only the district’s ballots', () => {
    const ts = [truth('a', 'D1', 0), truth('b', 'D2', 10), truth('c', 'D1', 20)];
    const sets = anonymitySets(ts, { minBallots: 3, maxWaitMs: 1000, scope: 'region' });
    expect(sets.get('a')).toEqual(['a', 'c']);
    expect(sets.get('b')).toEqual(['b']);
  });
});

describe('margin and attack', () => {
  it('is three standard deviations of a chance-level attacker plus one point', () => {
    const chances = Array.from({ length: 10_000 }, () => 0.125);
    expect(marginOf(chances)).toBeCloseTo((3 * Math.sqrt(10_000 * 0.125 * 0.875)) / 10_000 + 0.01);
  });

  it('scores a tie among t ballots as 1/t, and an exact clock as a link', () => {
    const ts = [truth('a', 'D', 0), truth('b', 'D', 500), truth('c', 'D', 5000)];
    const ballots: Ballot[] = ts.map((t, i) => ({
      ballotId: t.ballotId,
      district: 'D',
      region: 'R',
      partition: 0,
      offset: i,
      batch: i < 2 ? 0 : 2,
    }));
    const batched = new Map([
      ['a', 250],
      ['b', 250],
      ['c', 5000],
    ]);
    const { result } = attack('cast', ts, ballots, batched, null);
    expect(result.success).toBeCloseTo((0.5 + 0.5 + 1) / 3);
    const rank = rankClock(ballots, new Map([['D', [0, 500, 5000]]]));
    expect(rank.get('a')).toBe(rank.get('b'));
    expect(rank.get('c')).toBe(5000);
  });
});

describe('aligned clock', () => {
  it('matches a partition’s ballots in order to the known times nearest their Redis times', () => {
    const ballots: Ballot[] = ['a', 'b', 'c'].map((id, i) => ({
      ballotId: id,
      district: 'D',
      region: 'R',
      partition: 0,
      offset: i,
      batch: i,
    }));
    // Five known casts in the district; the partition holds three ballots, seen by Redis ≈ 100 ms later.
    const redis = new Map([
      ['a', 1_150],
      ['b', 1_200],
      ['c', 4_080],
    ]);
    const clock = alignedClock(ballots, redis, new Map([['D', [0, 1_000, 1_100, 3_000, 4_000]]]), 100);
    expect([clock.get('a'), clock.get('b'), clock.get('c')]).toEqual([1_000, 1_100, 4_000]);
  });
});

describe('arrivals', () => {
  it('puts 80 % of the voters in the peak and deals them out in order', () => {
    const all = arrivals(1000, defaultPhases(100), 7);
    expect(all).toHaveLength(1000);
    expect(all.filter((a) => a.phase === 'peak')).toHaveLength(800);
    const lists = dealArrivals(all, 2);
    expect(lists[0]!.length + lists[1]!.length).toBe(1000);
    for (const l of lists) expect([...l].sort((x, y) => x - y)).toEqual(l);
  });
});

describe('scans', () => {
  const ids: Identifiers = {
    memberIds: new Set(['870101300123']),
    voterHashes: new Set(['f'.repeat(64)]),
    ballotIds: new Set(['ABCDEFGHIJKLMNOPQRSTUVWXYZ']),
    digests: new Map([
      ['00112233445566778899AABBCCDDEEFF', 'voter'],
      ['FFEEDDCCBBAA99887766554433221100', 'ballot'],
    ]),
  };
  const verdicts = (units: Parameters<typeof scan>[0]) =>
    Object.fromEntries(scan(units, ids).map((v) => [v.id, v.pass]));

  it('pass on clean units', () => {
    expect(
      verdicts([
        unit('kafka', 'ballots/0@1', '{"ballotId":"ABCDEFGHIJKLMNOPQRSTUVWXYZ"}', {
          times: [1_700_000_040_000],
        }),
        unit('redis', 'voter', `voter:{R}:E:${'f'.repeat(64)} issued:x`, { times: [1_700_000_000_123] }),
      ]),
    ).toEqual({ 'member-id': true, 'co-located': true, address: true, 'precise-time': true });
  });

  it('find a digest pair in one row, an idle clock on a ballot key, an address, a member id', () => {
    expect(
      verdicts([
        unit('clickhouse', 'turnout#0', '"E" "R"', {
          hex: ['0200112233445566778899AABBCCDDEEFF', '01FFEEDDCCBBAA99887766554433221100'],
        }),
        unit('redis', 'cred', 'cred:{R}:E:ABCDEFGHIJKLMNOPQRSTUVWXYZ cast:h', { times: [1_700_000_000_123] }),
        unit('logs', 'ingest.log:1', '{"time":1700000000000,"ip":"127.0.0.1","v":"870101300123"}'),
      ]),
    ).toEqual({ 'member-id': false, 'co-located': false, address: false, 'precise-time': false });
  });
});
