/**
 * The synthetic member roll of a demo election (DESIGN §8), with O(1) random
 * access and no storage: member i is a pure function of (seed, i).
 *
 *   i ──Feistel(idKeys, 36 bits)──► 11 digits + IIN check digit  = memberId
 *   i ──Feistel(posKeys, 2h bits, cycle-walk < size)──► position p
 *   p ──binary search in starts[]──► district d   (starts[d] ≤ p < starts[d+1])
 *
 * Districts own contiguous position ranges sized in proportion to their
 * population, so per-district roll counts are exact and known without a scan;
 * the position permutation shuffles members so any page of the roll mixes
 * districts. Both maps are bijections, so ids never collide and a member id
 * maps back to i (the dev login uses this to find a member's district).
 *
 * The Feistel rounds use a 32-bit integer mixer, not a cryptographic hash:
 * this is test data, and the mixer makes 800,000 members in well under a
 * second (see bench-roll.ts).
 */
import { createHash } from 'node:crypto';
import { ElectionError } from './errors.js';
import type { ElectionIndex } from './load.js';
import type { RollRow } from './roll-redis.js';
import { voterHash } from './voter-hash.js';

/** Bumped whenever the generator changes, so loaded rolls made by an older one are replaced. */
export const SAMPLE_ROLL_VERSION = 1;

/** Most members one `listSampleMembers` call returns. */
export const MAX_SAMPLE_PAGE = 1000;

/** Header of every roll CSV, synthetic or imported. */
export const ROLL_CSV_HEADER = 'member_id,district';

export interface SampleMember {
  readonly memberId: string;
  readonly district: string;
}

/** Everything needed to compute any member; built once per election. */
export interface SampleRollPlan {
  readonly electionId: string;
  readonly seed: string;
  readonly size: number;
  /** District ids in config order; members refer to them by index. */
  readonly districts: readonly string[];
  /** Region code of each district, by district index. */
  readonly regionOf: readonly string[];
  /** District d owns positions starts[d] ≤ p < starts[d+1]; starts[D] = size. */
  readonly starts: Float64Array;
  /** Hex SHA-256 of everything the roll depends on; equal digests mean equal rolls. */
  readonly digest: string;
  readonly posHalfBits: number;
  readonly posKeys: Uint32Array;
  readonly idKeys: Uint32Array;
}

/** 36-bit member numbers print as 11 digits (2^36 < 10^11); the 12th is the check digit. */
const ID_HALF_BITS = 18;
/** Six rounds: enough for a well-mixed permutation even on small domains. */
const ROUNDS = 6;

const plans = new WeakMap<ElectionIndex, SampleRollPlan>();

/**
 * The roll plan of an election with a `sampleRoll` section (cached per index).
 * @throws ElectionError `no_sample_roll` when the election's roll is imported instead
 */
export function sampleRollPlan(index: ElectionIndex): SampleRollPlan {
  const cached = plans.get(index);
  if (cached !== undefined) return cached;
  const roll = index.config.sampleRoll;
  if (roll === undefined) {
    throw new ElectionError(
      'no_sample_roll',
      `election "${index.id}" has no sample roll; import one from CSV`,
    );
  }
  const districts = index.config.districts;
  const counts = apportion(roll.size, districtWeights(index));
  const starts = new Float64Array(districts.length + 1);
  counts.forEach((n, d) => {
    starts[d + 1] = starts[d]! + n;
  });
  const posHalfBits = Math.max(1, Math.ceil(Math.ceil(Math.log2(Math.max(2, roll.size))) / 2));
  const digest = createHash('sha256')
    .update(
      JSON.stringify({
        v: SAMPLE_ROLL_VERSION,
        seed: roll.seed,
        size: roll.size,
        districts: districts.map((d, i) => [d.id, d.region, counts[i]]),
      }),
    )
    .digest('hex');
  const plan: SampleRollPlan = Object.freeze({
    electionId: index.id,
    seed: roll.seed,
    size: roll.size,
    districts: Object.freeze(districts.map((d) => d.id)),
    regionOf: Object.freeze(districts.map((d) => d.region)),
    starts,
    digest,
    posHalfBits,
    posKeys: roundKeys(roll.seed, 'position'),
    idKeys: roundKeys(roll.seed, 'member-id'),
  });
  plans.set(index, plan);
  return plan;
}

/**
 * Weights per district: the region's population split evenly over its
 * districts. Without a population for every region, all districts weigh the same.
 */
function districtWeights(index: ElectionIndex): number[] {
  const { regions, districts } = index.config;
  const everyRegionHasPopulation = regions.every((r) => r.population !== undefined);
  return districts.map((d) => {
    if (!everyRegionHasPopulation) return 1;
    return (index.region(d.region)?.population ?? 0) / index.districtsOf(d.region).length;
  });
}

/** Largest-remainder apportionment: integer counts summing to exactly `total`. */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    counts[i]!++;
  }
  return counts;
}

function roundKeys(seed: string, purpose: string): Uint32Array {
  const h = createHash('sha256')
    .update(`saylau-sample-roll/v${SAMPLE_ROLL_VERSION}\0${purpose}\0${seed}`)
    .digest();
  const keys = new Uint32Array(ROUNDS);
  for (let i = 0; i < ROUNDS; i++) keys[i] = h.readUInt32BE(i * 4);
  return keys;
}

/** murmur3's fmix32 over (r xor key): a cheap 32-bit mixer, good enough to shuffle test data. */
function mix(r: number, key: number): number {
  let h = Math.imul(r ^ key, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Balanced Feistel network over [0, 2^(2·halfBits)); halves ≤ 18 bits keep every step in int32. */
function permute(x: number, halfBits: number, keys: Uint32Array): number {
  const half = 2 ** halfBits;
  const mask = half - 1;
  let l = Math.floor(x / half);
  let r = x % half;
  for (let k = 0; k < keys.length; k++) {
    const t = l ^ (mix(r, keys[k]!) & mask);
    l = r;
    r = t;
  }
  return l * half + r;
}

function unpermute(y: number, halfBits: number, keys: Uint32Array): number {
  const half = 2 ** halfBits;
  const mask = half - 1;
  let l = Math.floor(y / half);
  let r = y % half;
  for (let k = keys.length - 1; k >= 0; k--) {
    const t = r ^ (mix(l, keys[k]!) & mask);
    r = l;
    l = t;
  }
  return l * half + r;
}

/** Member i's position: the Feistel permutation, cycle-walked back into [0, size). */
function positionOf(plan: SampleRollPlan, i: number): number {
  let p = permute(i, plan.posHalfBits, plan.posKeys);
  while (p >= plan.size) p = permute(p, plan.posHalfBits, plan.posKeys);
  return p;
}

function districtIndexAt(starts: Float64Array, p: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The IIN check digit (weights 1..11, then 3..11,1,2, mod 11). A real
 * registry never issues a number whose second pass also gives 10; this
 * synthetic roll cannot skip numbers without losing its bijection, so it
 * writes 0 there.
 */
function checkDigit(digits: string): number {
  let a = 0;
  let b = 0;
  for (let k = 0; k < 11; k++) {
    const v = digits.charCodeAt(k) - 48;
    a += v * (k + 1);
    b += v * (((k + 2) % 11) + 1);
  }
  a %= 11;
  if (a !== 10) return a;
  b %= 11;
  return b === 10 ? 0 : b;
}

function memberIdOf(plan: SampleRollPlan, i: number): string {
  const digits = permute(i, ID_HALF_BITS, plan.idKeys).toString().padStart(11, '0');
  return digits + checkDigit(digits);
}

/** Member i of the roll (0 ≤ i < size). */
export function sampleMemberAt(plan: SampleRollPlan, i: number): SampleMember {
  return {
    memberId: memberIdOf(plan, i),
    district: plan.districts[districtIndexAt(plan.starts, positionOf(plan, i))]!,
  };
}

/** The index of a member id on the roll, or -1 if it is not one of its members. */
export function sampleMemberIndex(plan: SampleRollPlan, memberId: string): number {
  if (!/^\d{12}$/.test(memberId)) return -1;
  const digits = memberId.slice(0, 11);
  if (checkDigit(digits) !== memberId.charCodeAt(11) - 48) return -1;
  const x = Number(digits);
  if (x >= 2 ** (2 * ID_HALF_BITS)) return -1;
  const i = unpermute(x, ID_HALF_BITS, plan.idKeys);
  return i < plan.size ? i : -1;
}

/** The district of a member of the synthetic roll, or undefined if the id is not on it. */
export function sampleMemberDistrict(plan: SampleRollPlan, memberId: string): string | undefined {
  const i = sampleMemberIndex(plan, memberId);
  return i < 0 ? undefined : plan.districts[districtIndexAt(plan.starts, positionOf(plan, i))];
}

/**
 * Calls `visit(memberId, districtIndex)` for members from ≤ i < to, without
 * making an object per member: the loader and the CSV writer run this over
 * the whole roll.
 */
export function forEachSampleMember(
  plan: SampleRollPlan,
  from: number,
  to: number,
  visit: (memberId: string, districtIndex: number) => void,
): void {
  const end = Math.min(to, plan.size);
  for (let i = Math.max(0, from); i < end; i++) {
    visit(memberIdOf(plan, i), districtIndexAt(plan.starts, positionOf(plan, i)));
  }
}

/**
 * A page of the roll for the dev login. Offsets past the end give an empty
 * page; `limit` is capped at {@link MAX_SAMPLE_PAGE}.
 * @throws ElectionError `no_sample_roll`
 */
export function listSampleMembers(index: ElectionIndex, offset: number, limit: number): SampleMember[] {
  const plan = sampleRollPlan(index);
  const from = Math.max(0, Math.floor(offset) || 0);
  const to = Math.min(plan.size, from + Math.min(MAX_SAMPLE_PAGE, Math.max(0, Math.floor(limit) || 0)));
  const page: SampleMember[] = [];
  for (let i = from; i < to; i++) page.push(sampleMemberAt(plan, i));
  return page;
}

/** Exact member count per district id, without generating anyone. */
export function sampleRollCounts(index: ElectionIndex): ReadonlyMap<string, number> {
  const plan = sampleRollPlan(index);
  return new Map(plan.districts.map((id, d) => [id, plan.starts[d + 1]! - plan.starts[d]!]));
}

/**
 * The roll as CSV text (`member_id,district`, the import format), in chunks
 * of `linesPerChunk` lines so a stream can apply backpressure between them.
 */
export function* sampleRollCsv(index: ElectionIndex, linesPerChunk = 8192): Generator<string> {
  const plan = sampleRollPlan(index);
  yield `${ROLL_CSV_HEADER}\n`;
  for (let from = 0; from < plan.size; from += linesPerChunk) {
    let chunk = '';
    forEachSampleMember(plan, from, from + linesPerChunk, (memberId, d) => {
      chunk += `${memberId},${plan.districts[d]}\n`;
    });
    yield chunk;
  }
}

/**
 * The roll as rows ready for Redis (voterHash, district), in batches. The
 * HMAC per member dominates the cost (see bench-roll.ts).
 */
export async function* sampleRollRows(
  index: ElectionIndex,
  pepper: Buffer,
  batchSize = 5000,
): AsyncGenerator<RollRow[]> {
  const plan = sampleRollPlan(index);
  for (let from = 0; from < plan.size; from += batchSize) {
    const rows: RollRow[] = [];
    forEachSampleMember(plan, from, from + batchSize, (memberId, d) => {
      rows.push({ voterHash: voterHash(pepper, memberId), district: plan.districts[d]! });
    });
    yield rows;
  }
}
