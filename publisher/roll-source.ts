/**
 * Members on the roll per district, the denominator of turnout; regions are
 * the sums of their districts, so the two can never disagree.
 *
 * A sample roll is a pure function of the config, so its counts are
 * computed exactly without touching Redis. An imported roll's counts per
 * district are in its marker, `roll-meta:{<election>}` (election/roll-redis.ts):
 * written by the loader from the rows it stored (it checks stored = sent), in
 * the same MULTI that swaps that roll in, so one GET per snapshot or live
 * refresh gives what an HLEN per region would, per district too — never per
 * page view — and a re-import under way or failed leaves the previous roll's
 * counts, which ingest still serves. No marker means no roll is loaded (never, or Redis was emptied):
 * `source_unavailable`, so nothing is published with a wrong denominator.
 */
import type { Redis } from 'ioredis';
import { type ElectionIndex, readRollMeta, sampleRollCounts } from '../election/index.js';
import { PublisherError } from './errors.js';
import type { RollSource } from './results-source.js';

export function rollSourceFor(index: ElectionIndex, redis: () => Redis): RollSource {
  const sample =
    index.config.sampleRoll === undefined
      ? null
      : inConfigOrder(index, Object.fromEntries(sampleRollCounts(index)));
  const rollByDistrict = async (election: string): Promise<ReadonlyMap<string, number>> => {
    if (sample !== null) return sample;
    const meta = await readRollMeta(redis(), election);
    if (meta === null) {
      throw new PublisherError(
        'source_unavailable',
        `no roll of ${election} in Redis (roll-meta missing: not loaded)`,
      );
    }
    return inConfigOrder(index, meta.districts);
  };
  return {
    rollByDistrict,
    async rollByRegion(election) {
      const regions = new Map(index.config.regions.map((r) => [r.code, 0]));
      for (const [district, n] of await rollByDistrict(election)) {
        const region = index.district(district)!.region;
        regions.set(region, regions.get(region)! + n);
      }
      return regions;
    },
  };
}

/** Every district of the config, in its order; one the counts do not name has nobody on the roll. */
function inConfigOrder(
  index: ElectionIndex,
  counts: Readonly<Record<string, number>>,
): ReadonlyMap<string, number> {
  return new Map(index.config.districts.map((d) => [d.id, counts[d.id] ?? 0]));
}
