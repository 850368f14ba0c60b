/**
 * What a precinct protocol must say to be accepted (issue 15): one rule,
 * checked by ingest before it is written (refused as `protocol_invalid` with
 * this message) and again by the publisher (a protocol that fails is shown
 * as rejected with it). The message starts with the offending path:
 *
 *   - its precinct, district and region are the config's;
 *   - version ≥ 1; a version above 1 carries a reason (why it supersedes);
 *   - spoiled ≤ issued (issued + unused = papers received is not in the record);
 *   - results: only races of the precinct's district and candidates of those
 *     races, each candidate of each race exactly once, votes a decimal count;
 *   - per race: Σ votes ≤ (issued − spoiled) × maxChoices (a valid paper marks
 *     at most maxChoices candidates of the race).
 *
 * Check-ins ≥ issued is not known here (check-ins are counted in ClickHouse):
 * the publisher checks it and shows a protocol that fails it as rejected.
 */
import { verify } from 'node:crypto';
import { type PaperProtocol, protocolSignedBytes } from '../common/records.js';
import type { PaperPrecinct } from './config-schema.js';
import type { StationKeys } from './keys.js';
import type { ElectionIndex } from './load.js';

const VOTES = /^(0|[1-9][0-9]{0,9})$/;

class Refusal extends Error {}

function refuse(message: string): never {
  throw new Refusal(message);
}

/**
 * Whether `signature` (base64url) is the precinct's station key over the
 * protocol's signed bytes: null when it is, else what is wrong (starting with
 * the field). One check for ingest (refused as `protocol_signature_invalid`)
 * and the publisher (shown as rejected).
 */
export function signatureProblem(stations: StationKeys, p: PaperProtocol, signature: string): string | null {
  const station = stations.get(p.precinct);
  if (station === undefined) return `keyId: polling station ${p.precinct} has no station key`;
  if (p.keyId !== station.keyId) return `keyId: not the station key of ${p.precinct} (${station.keyId})`;
  try {
    if (verify(null, protocolSignedBytes(p), station.publicKey, Buffer.from(signature, 'base64url')))
      return null;
  } catch {
    // A malformed signature or key: not a signature by the station.
  }
  return 'signature: does not verify with the station key';
}

/** The first wrong line of `p` for `precinct`, or null when the protocol is acceptable. */
export function protocolProblem(
  election: ElectionIndex,
  precinct: PaperPrecinct,
  p: PaperProtocol,
): string | null {
  try {
    check(election, precinct, p);
    return null;
  } catch (err) {
    if (err instanceof Refusal) return err.message;
    throw err;
  }
}

function check(election: ElectionIndex, precinct: PaperPrecinct, p: PaperProtocol): void {
  const district = election.district(precinct.district);
  if (p.district !== precinct.district)
    refuse(`district: precinct ${precinct.id} is in ${precinct.district}`);
  if (district === undefined || p.region !== district.region) {
    refuse(`region: district ${precinct.district} is in ${district?.region ?? 'no region'}`);
  }
  if (!Number.isSafeInteger(p.version) || p.version < 1) refuse('version: must be 1 or more');
  if (p.version > 1 && p.reason.trim() === '')
    refuse(`reason: version ${p.version} must say why it supersedes`);
  if (p.spoiled > p.issued) refuse(`spoiled: ${p.spoiled} spoiled of ${p.issued} issued`);

  const races = new Map(election.racesOf(precinct.district).map((r) => [r.id, r]));
  const seen = new Map<string, Set<string>>();
  const sums = new Map<string, number>();
  p.results.forEach((row, i) => {
    const [raceId, candidate, votes] = row;
    if (row.length !== 3) refuse(`results[${i}]: expected [race, candidate, votes]`);
    const race = races.get(raceId);
    if (race === undefined)
      refuse(`results[${i}][0]: race ${raceId} is not on district ${precinct.district}'s ballot`);
    if (!race.candidates.some((c) => c.id === candidate)) {
      refuse(`results[${i}][1]: ${candidate} is not a candidate of race ${raceId}`);
    }
    if (!VOTES.test(votes)) refuse(`results[${i}][2]: "${votes}" is not a count of votes`);
    const listed = seen.get(raceId) ?? new Set<string>();
    if (listed.has(candidate)) refuse(`results[${i}]: ${candidate} of race ${raceId} is listed twice`);
    listed.add(candidate);
    seen.set(raceId, listed);
    sums.set(raceId, (sums.get(raceId) ?? 0) + Number(votes));
  });
  const valid = p.issued - p.spoiled;
  for (const race of races.values()) {
    const listed = seen.get(race.id);
    const missing = race.candidates.find((c) => !listed?.has(c.id));
    if (missing !== undefined) refuse(`results: race ${race.id} lacks candidate ${missing.id}`);
    const sum = sums.get(race.id) ?? 0;
    if (sum > valid * race.maxChoices) {
      refuse(
        `results: race ${race.id}: ${sum} votes > (issued ${p.issued} − spoiled ${p.spoiled}) × ${race.maxChoices} choices`,
      );
    }
  }
}
