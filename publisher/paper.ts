/**
 * Each paper precinct's standing in a snapshot (issue 15): its latest
 * protocol version is either accepted (its votes count) or rejected with the
 * reason, and a rejected protocol is shown, never a reason to stop
 * publishing. Checked, in order, on the precinct's highest version:
 *
 *   - one protocol per version: two different ones of a version (the second
 *     written after the first won the ledger key) → rejected, send a higher version;
 *   - the precinct's district and region are the config's;
 *   - the station key's signature verifies (the key of `public/precinct-keys.json`);
 *   - the protocol rule ingest applies (election/paper-protocol.ts): races and
 *     candidates of the district, every candidate once, Σ votes ≤ (issued − spoiled) × maxChoices;
 *   - check-ins ≥ issued: no more papers handed out than members checked in there.
 *     Check-ins (aggregator/queries.ts `paperCheckIns`) count members whose
 *     only issuance is this precinct's check-in: a member with a second
 *     issuance record (a fault let a losing one into the log) counts nowhere
 *     until its winner is known, as a conflicted ballot does, so Σ accepted
 *     issued never exceeds the region's issuedPaper (totals.ts). A
 *     follow-up could record issuance winners from the log, as
 *     `ballot_winners` does for ballots, and count such a member once.
 *
 * Nothing falls back to an older version: a correction that fails leaves the
 * precinct unreported until a higher version passes.
 */
import { PAPER_KINDS, type PaperProtocol, RECORD_VERSION } from '../common/records.js';
import {
  type ElectionIndex,
  protocolProblem,
  type StationKeys,
  signatureProblem,
} from '../election/index.js';
import type { PaperProtocolRow, ResultsInput } from './results-source.js';
import type { PrecinctReport } from './snapshot.js';

export interface PaperOutcome {
  /** Every precinct of the config, config order. */
  readonly reports: readonly PrecinctReport[];
  /** The accepted protocols: the ones whose votes and ballots count. */
  readonly accepted: readonly PaperProtocolRow[];
}

export function judgePaper(index: ElectionIndex, input: ResultsInput, stations: StationKeys): PaperOutcome {
  const versions = new Map<string, PaperProtocolRow[]>();
  for (const row of input.paperProtocols)
    versions.set(row.precinct, [...(versions.get(row.precinct) ?? []), row]);
  const checkIns = new Map<string, number>();
  for (const row of input.paperCheckIns)
    checkIns.set(row.precinct, (checkIns.get(row.precinct) ?? 0) + row.checkIns);
  const reports: PrecinctReport[] = [];
  const accepted: PaperProtocolRow[] = [];
  for (const precinct of index.config.paperPrecincts) {
    const region = index.district(precinct.district)?.region ?? '';
    const dissents = input.paperDissents
      .filter((d) => d.precinct === precinct.id)
      .map((d) => ({ version: d.version, author: d.author, text: d.text }));
    const counted = checkIns.get(precinct.id) ?? 0;
    const rows = versions.get(precinct.id) ?? [];
    const top = Math.max(0, ...rows.map((r) => r.version));
    const latest = rows.filter((r) => r.version === top);
    const protocol = latest[0];
    if (protocol === undefined) {
      reports.push({
        id: precinct.id,
        region,
        district: precinct.district,
        status: 'missing',
        rejection: '',
        version: 0,
        reason: '',
        issued: 0,
        spoiled: 0,
        unused: 0,
        checkIns: counted,
        keyId: '',
        signature: '',
        dissents,
      });
      continue;
    }
    const rejection =
      latest.length > 1
        ? `version ${top}: ${latest.length} different protocols were submitted; a higher version must settle it`
        : problemOf(index, protocol, stations, counted);
    if (rejection === null) accepted.push(protocol);
    reports.push({
      id: precinct.id,
      region,
      district: precinct.district,
      status: rejection === null ? 'accepted' : 'rejected',
      rejection: rejection ?? '',
      version: protocol.version,
      reason: protocol.reason,
      issued: protocol.issued,
      spoiled: protocol.spoiled,
      unused: protocol.unused,
      checkIns: counted,
      keyId: protocol.keyId,
      signature: protocol.signature,
      dissents,
    });
  }
  return { reports, accepted };
}

function problemOf(
  index: ElectionIndex,
  row: PaperProtocolRow,
  stations: StationKeys,
  checkIns: number,
): string | null {
  const precinct = index.config.paperPrecincts.find((p) => p.id === row.precinct)!;
  const protocol: PaperProtocol = {
    v: RECORD_VERSION,
    kind: PAPER_KINDS.protocol,
    election: index.id,
    region: row.region,
    district: row.district,
    precinct: row.precinct,
    version: row.version,
    reason: row.reason,
    issued: row.issued,
    spoiled: row.spoiled,
    unused: row.unused,
    results: row.results.map((r) => [r[0] ?? '', r[1] ?? '', r[2] ?? ''] as const),
    keyId: row.keyId,
  };
  const unsigned = signatureProblem(stations, protocol, row.signature);
  if (unsigned !== null) return unsigned;
  const problem = protocolProblem(index, precinct, protocol);
  if (problem !== null) return problem;
  if (row.issued > checkIns) {
    return `issued: ${row.issued} ballot papers issued but ${checkIns} members checked in at ${row.precinct}`;
  }
  return null;
}
