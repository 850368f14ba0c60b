/**
 * The synthetic roll (DESIGN §8): 800,000 members, deterministic from the
 * seed, random access without storage, ids unique, districts in proportion.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ElectionIndex,
  indexElection,
  listSampleMembers,
  loadElection,
  MAX_SAMPLE_PAGE,
  ROLL_CSV_HEADER,
  sampleMemberDistrict,
  sampleRollCounts,
  sampleRollCsv,
  sampleRollPlan,
} from '../election/index.js';

const sample = loadElection('sample');

function csvDigest(index: ElectionIndex): { digest: string; lines: number } {
  const hash = createHash('sha256');
  let lines = 0;
  for (const chunk of sampleRollCsv(index)) {
    hash.update(chunk);
    for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++;
  }
  return { digest: hash.digest('hex'), lines };
}

describe('the sample roll', () => {
  it('yields 800,000 members and the same bytes from the same seed', { timeout: 60_000 }, () => {
    const first = csvDigest(sample);
    expect(first.lines).toBe(800_000 + 1);
    // A second index of the same file must not share any cached state with the first.
    const again = csvDigest(loadElection('sample'));
    expect(again.digest).toBe(first.digest);
  });

  it('changes completely with another seed', () => {
    const other = indexElection({ ...sample.config, sampleRoll: { seed: 'another seed', size: 1000 } });
    const same = indexElection({
      ...sample.config,
      sampleRoll: { seed: sample.config.sampleRoll!.seed, size: 1000 },
    });
    const a = listSampleMembers(same, 0, 1000).map((m) => m.memberId);
    const b = new Set(listSampleMembers(other, 0, 1000).map((m) => m.memberId));
    expect(a.filter((id) => b.has(id)).length).toBeLessThan(5);
  });

  it('gives every member a distinct 12-digit id', { timeout: 60_000 }, () => {
    const ids = new Float64Array(800_000);
    let n = 0;
    let malformed = 0;
    for (const chunk of sampleRollCsv(sample)) {
      for (const line of chunk.split('\n')) {
        if (line === '' || line === ROLL_CSV_HEADER) continue;
        const id = line.slice(0, line.indexOf(','));
        if (!/^\d{12}$/.test(id)) malformed++;
        ids[n++] = Number(id);
      }
    }
    expect(malformed).toBe(0);
    expect(n).toBe(800_000);
    ids.sort();
    let repeats = 0;
    for (let i = 1; i < ids.length; i++) if (ids[i] === ids[i - 1]) repeats++;
    expect(repeats).toBe(0);
  });

  it('serves any page in O(1), equal to the streamed order', () => {
    const chunks = sampleRollCsv(sample, 10);
    chunks.next(); // header
    const streamed = `${chunks.next().value}${chunks.next().value}`.trim().split('\n');
    expect(listSampleMembers(sample, 0, 20).map((m) => `${m.memberId},${m.district}`)).toEqual(streamed);
    const tail = listSampleMembers(sample, 799_998, 10);
    expect(tail).toHaveLength(2);
    expect(listSampleMembers(sample, 800_000, 10)).toEqual([]);
    expect(listSampleMembers(sample, 0, 1e9)).toHaveLength(MAX_SAMPLE_PAGE);
  });

  it('maps a member id back to its district, and rejects typos', () => {
    const plan = sampleRollPlan(sample);
    for (const m of listSampleMembers(sample, 123_456, 50)) {
      expect(sampleMemberDistrict(plan, m.memberId)).toBe(m.district);
    }
    const id = listSampleMembers(sample, 7, 1)[0]!.memberId;
    const typo = id.slice(0, 5) + ((Number(id[5]) + 1) % 10) + id.slice(6);
    expect(sampleMemberDistrict(plan, typo)).toBeUndefined();
    expect(sampleMemberDistrict(plan, '12345')).toBeUndefined();
  });

  it('spreads members over districts in proportion to population, summing exactly', () => {
    const counts = sampleRollCounts(sample);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(800_000);
    const perRegion = new Map<string, number>();
    for (const [district, n] of counts) {
      const region = sample.district(district)!.region;
      perRegion.set(region, (perRegion.get(region) ?? 0) + n);
    }
    const population = sample.config.regions.reduce((a, r) => a + r.population!, 0);
    for (const r of sample.config.regions) {
      // Exact shares, give or take the one member per district that rounding can move.
      const expected = (800_000 * r.population!) / population;
      expect(Math.abs(perRegion.get(r.code)! - expected)).toBeLessThanOrEqual(
        sample.districtsOf(r.code).length,
      );
    }
  });

  it('puts streamed members in districts matching the exact counts', () => {
    const tiny = loadElection('tiny');
    const seen = new Map<string, number>();
    for (const m of listSampleMembers(tiny, 0, 1000)) seen.set(m.district, (seen.get(m.district) ?? 0) + 1);
    let total = 0;
    for (let offset = 1000; offset < 5000; offset += 1000) {
      for (const m of listSampleMembers(tiny, offset, 1000))
        seen.set(m.district, (seen.get(m.district) ?? 0) + 1);
    }
    for (const n of seen.values()) total += n;
    expect(total).toBe(5000);
    expect(seen).toEqual(new Map([...sampleRollCounts(tiny)]));
  });

  it('is refused for an election without a sample roll', () => {
    const { sampleRoll: _, ...rest } = loadElection('tiny').config;
    expect(() => listSampleMembers(indexElection(rest), 0, 1)).toThrow(
      expect.objectContaining({ code: 'no_sample_roll' }),
    );
  });
});
