/**
 * Members on the roll per region, the denominator of turnout.
 *
 * A sample roll is a pure function of the config, so its counts are
 * computed exactly without touching Redis; an imported roll is counted in
 * Redis (`HLEN roll:{<region>}:<election>`, one call per region, once per
 * snapshot or live refresh — never per page view).
 */
import type { Redis } from 'ioredis';
import { type ElectionIndex, rollKey, sampleRollCounts } from '../election/index.js';
import type { RollSource } from './results-source.js';

export function rollSourceFor(index: ElectionIndex, redis: () => Redis): RollSource {
  if (index.config.sampleRoll !== undefined) {
    const byRegion = new Map<string, number>();
    for (const [district, n] of sampleRollCounts(index)) {
      const region = index.district(district)!.region;
      byRegion.set(region, (byRegion.get(region) ?? 0) + n);
    }
    return { rollByRegion: async () => byRegion };
  }
  return {
    async rollByRegion(election) {
      const client = redis();
      const regions = index.config.regions.map((r) => r.code);
      const counts = await Promise.all(regions.map((code) => client.hlen(rollKey(election, code))));
      return new Map(regions.map((code, i) => [code, counts[i]!]));
    },
  };
}
