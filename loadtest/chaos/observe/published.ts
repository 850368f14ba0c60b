/**
 * What the system counted and published, read from outside:
 *
 *   ClickHouse  counted codes (`aggregator/queries.ts` codes), the tally per
 *               district (`tallyByDistrict`), and ballotIds stored with two
 *               different ballots (`ballots_raw`)
 *   snapshot    `latest.json` and its codes file under the run's PUBLIC_DIR
 *               (`publisher/snapshot-store.ts`), the Merkle root recomputed
 *
 * A tally is a map `race|region|district|candidate` → votes (`check/tally.ts`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClickHouse } from '../../../aggregator/client.js';
import { codes, tallyByDistrict } from '../../../aggregator/queries.js';
import { idLiteral } from '../../../aggregator/sql.js';
import type { Config } from '../../../common/config.js';
import { merkleRoot, parseCodesFile } from '../../../publisher/merkle.js';
import { LATEST_PATH, type Snapshot } from '../../../publisher/snapshot.js';
import { cellKey, type Tally } from '../check/tally.js';

export interface Counted {
  readonly codes: readonly string[];
  readonly tally: Tally;
  /** ballotIds stored with more than one distinct ballotHash. */
  readonly conflicts: readonly string[];
}

export interface PublishedSnapshot {
  readonly seq: number;
  readonly takenAt: string;
  /** The codes file, or null when it is missing or malformed. */
  readonly codes: readonly string[] | null;
  readonly codesCount: number;
  readonly merkleRoot: string;
  /** The root recomputed from the codes file equals the snapshot's. */
  readonly rootOk: boolean;
  /** Online votes per cell. */
  readonly tally: Tally;
}

export async function readCounted(config: Config, election: string): Promise<Counted> {
  const ch = new ClickHouse(config);
  try {
    const [ids, rows, twice] = await Promise.all([
      codes(ch, election),
      tallyByDistrict(ch, election),
      ch.rows<{ ballot_id: string }>(
        `SELECT ballot_id FROM ballots_raw WHERE election = ${idLiteral(election)}
         GROUP BY ballot_id HAVING uniqExact(ballot_hash) > 1 ORDER BY ballot_id`,
      ),
    ]);
    const tally: Tally = new Map();
    for (const r of rows) tally.set(cellKey(r.race, r.region, r.district, r.candidate), r.votes);
    return { codes: ids, tally, conflicts: twice.map((r) => r.ballot_id) };
  } finally {
    await ch.close();
  }
}

export async function readSnapshot(publicDir: string): Promise<PublishedSnapshot | null> {
  let snapshot: Snapshot;
  try {
    snapshot = JSON.parse(await readFile(join(publicDir, LATEST_PATH), 'utf8')) as Snapshot;
  } catch {
    return null;
  }
  const codesText = await readFile(join(publicDir, snapshot.codes.file), 'utf8').catch(() => null);
  const codeList = codesText === null ? null : parseCodesFile(codesText);
  const tally: Tally = new Map();
  for (const race of snapshot.races) {
    for (const region of race.regions) {
      for (const district of region.districts) {
        for (const c of district.total.candidates) {
          if (c.online > 0) tally.set(cellKey(race.id, region.code, district.id, c.id), c.online);
        }
      }
    }
  }
  return {
    seq: snapshot.seq,
    takenAt: snapshot.takenAt,
    codes: codeList,
    codesCount: snapshot.codes.count,
    merkleRoot: snapshot.codes.merkleRoot,
    rootOk: codeList !== null && merkleRoot(codeList) === snapshot.codes.merkleRoot,
    tally,
  };
}
