/**
 * Ballot records as ingest writes them to `ballots` (common/records.ts
 * `BallotRecord`, built like ingest/routes/ballots.ts): districts of an
 * election config weighted by their region's population, each race marked
 * with 1…maxChoices distinct active candidates, a distinct ballotId and
 * ballotHash per record, and the region's partition chosen explicitly
 * (DESIGN §4). The sample election gives 20 regions → 20 partitions.
 *
 * Made before the clock starts and then cycled, so a run measures what the
 * record log and the client do with a record, not the hashing that made it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { BALLOT_ID_LENGTH, base32 } from '../../common/ballot-id.js';
import { type BallotRecord, minuteBucket, RECORD_VERSION, type SelectionRow } from '../../common/records.js';
import { loadElection } from '../../election/index.js';

/** One record ready for a producer: what `RecordLog.append` receives. */
export interface LedgerRecord {
  readonly partition: number;
  readonly value: string;
  readonly timestampMs: number;
}

interface DistrictPick {
  readonly region: string;
  readonly district: string;
  readonly partition: number;
  /** Per race: id, active candidate ids, how many may be marked. */
  readonly races: readonly (readonly [string, readonly string[], number])[];
}

function districtPicks(electionName: string): { electionId: string; weighted: DistrictPick[] } {
  const election = loadElection(electionName);
  const weighted: DistrictPick[] = [];
  for (const region of election.config.regions) {
    const districts = election.districtsOf(region.code);
    // One entry per ~100k inhabitants: partitions as uneven as the regions are.
    const copies = Math.max(1, Math.round((region.population ?? 1_000_000) / 100_000 / districts.length));
    for (const district of districts) {
      const races = election.racesOf(district.id).map((race) => {
        const active = race.candidates.filter((c) => c.status === 'active').map((c) => c.id);
        return [race.id, active, Math.min(race.maxChoices, active.length)] as const;
      });
      const pick = { region: region.code, district: district.id, partition: region.partitions[0]!, races };
      for (let i = 0; i < copies; i++) weighted.push(pick);
    }
  }
  return { electionId: election.id, weighted };
}

/** `count` distinct ballot records of `electionName` (a config name or path, as `loadElection` takes). */
export function prepareBallots(count: number, electionName: string, nowMs = Date.now()): LedgerRecord[] {
  const { electionId, weighted } = districtPicks(electionName);
  const random = randomBytes(count * 40);
  const bucket = minuteBucket(nowMs);
  const out: LedgerRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const pick = weighted[random.readUInt32LE(i * 40) % weighted.length]!;
    const selections: SelectionRow[] = [];
    let r = (random.readUInt32LE(i * 40 + 4) | 1) >>> 0;
    for (const [race, active, maxChoices] of pick.races) {
      // 1…maxChoices distinct candidates: a partial Fisher–Yates over the active ones.
      const pool = [...active];
      const count = 1 + (r % maxChoices);
      for (let j = 0; j < count; j++) {
        r = xorshift(r);
        const k = j + (r % (pool.length - j));
        const swap = pool[j]!;
        pool[j] = pool[k]!;
        pool[k] = swap;
      }
      selections.push([race, ...pool.slice(0, count)]);
    }
    // ballotId = base32(SHA-256(credential message))[0..26]: 32 random bytes stand for the message.
    const message = random.subarray(i * 40 + 8, i * 40 + 40);
    const ballotId = base32(createHash('sha256').update(message).digest()).slice(0, BALLOT_ID_LENGTH);
    const ballotHash = createHash('sha256')
      .update(JSON.stringify([electionId, pick.district, ballotId, selections]))
      .digest('hex');
    const record: BallotRecord = {
      v: RECORD_VERSION,
      election: electionId,
      region: pick.region,
      district: pick.district,
      ballotId,
      ballotHash,
      rev: 0,
      bucket,
      selections,
    };
    out[i] = { partition: pick.partition, value: JSON.stringify(record), timestampMs: bucket * 1000 };
  }
  return out;
}

function xorshift(x: number): number {
  let y = x ^ (x << 13);
  y ^= y >>> 17;
  y ^= y << 5;
  return y >>> 0;
}

/** Mean, min and max value size in bytes (for the report). */
export function valueBytes(records: readonly LedgerRecord[]): { mean: number; min: number; max: number } {
  let total = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const r of records) {
    const n = Buffer.byteLength(r.value);
    total += n;
    if (n < min) min = n;
    if (n > max) max = n;
  }
  return { mean: Math.round(total / Math.max(1, records.length)), min, max };
}
