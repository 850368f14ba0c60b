/**
 * The checker: what the run proves, by sets of ids, never by counts alone.
 * The rule the whole system follows: for each ballotId the first record in
 * its partition's log wins (lowest (partition, offset)); a later record with
 * the same ballotHash is a harmless duplicate, one with a different
 * ballotHash a conflict that must never count.
 *
 *   A   every acknowledged ballot is in Kafka and is the winner for its ballotId, with the acknowledged choices
 *   A2  every acknowledged credential issuance is in Kafka `issuance`
 *   B   counted set (ClickHouse codes, snapshot codes and Merkle root) = ballotIds in Kafka,
 *       and each counted ballot was sent and acknowledged or unknown (never only refused)
 *   C   no credential counted with two ballots: no published or ClickHouse cell above the
 *       tally of the winners (the conflicts that could explain it are listed)
 *   D   no voter holds two credentials (issuance records; client view as a fallback)
 *   E   published tally = ClickHouse tally = tally recomputed from the winners, cell by cell
 *   L1  a snapshot was published after the system settled (liveness)
 *   L2  no operator action was needed (liveness: ingest restores what Redis lost)
 *
 * Violations are listed by ballotId (receipt), voterHash or tally cell; never
 * a voter next to choices.
 */
import { merkleRoot } from '../../../publisher/merkle.js';
import type { ElectionLog, LoggedBallot } from '../observe/kafka-log.js';
import type { Counted, PublishedSnapshot } from '../observe/published.js';
import { type HistoryIndex, versionStatus } from './history-index.js';
import { marksOf } from './rows.js';
import { type CellDiff, cellKey, diffTally, type Tally, tallyOf } from './tally.js';

export type VerdictId = 'A' | 'A2' | 'B' | 'C' | 'D' | 'E' | 'L1' | 'L2';

export interface Violations {
  readonly count: number;
  /** The first {@link MAX_IDS} ids. */
  readonly ids: readonly string[];
}

export interface Verdict {
  readonly id: VerdictId;
  readonly name: string;
  readonly pass: boolean;
  /** Sizes of the sets compared. */
  readonly sets: Readonly<Record<string, number>>;
  /** Non-empty lists only. */
  readonly violations: Readonly<Record<string, Violations>>;
  readonly notes: readonly string[];
}

export interface CheckInput {
  readonly history: HistoryIndex;
  readonly log: ElectionLog;
  readonly counted: Counted;
  readonly snapshot: PublishedSnapshot | null;
  /** The snapshot was taken after ingest stopped and ClickHouse settled. */
  readonly snapshotFresh: boolean;
  readonly operatorActions: readonly string[];
}

export const MAX_IDS = 200;

function verdict(
  id: VerdictId,
  name: string,
  sets: Record<string, number>,
  lists: Record<string, Iterable<string>>,
  notes: string[] = [],
): Verdict {
  const violations: Record<string, Violations> = {};
  for (const [key, list] of Object.entries(lists)) {
    const ids = [...list].sort();
    if (ids.length > 0) violations[key] = { count: ids.length, ids: ids.slice(0, MAX_IDS) };
  }
  return { id, name, pass: Object.keys(violations).length === 0, sets, violations, notes };
}

/** The winning record of every ballotId: lowest (partition, offset). */
export function winnersOf(log: ElectionLog): Map<string, LoggedBallot> {
  const winners = new Map<string, LoggedBallot>();
  for (const [id, records] of log.ballots) {
    let best = records[0]!;
    for (const r of records) {
      if (r.partition < best.partition || (r.partition === best.partition && r.offset < best.offset))
        best = r;
    }
    winners.set(id, best);
  }
  return winners;
}

const cellText = (d: CellDiff): string => `${d.cell}: expected ${d.expected}, got ${d.actual}`;
const minus = (a: Iterable<string>, b: ReadonlySet<string>): string[] => [...a].filter((x) => !b.has(x));

export function check(input: CheckInput): Verdict[] {
  const { history, log, counted, snapshot } = input;
  const winners = winnersOf(log);
  const inLog = new Set(log.ballots.keys());

  // A: acknowledged ⇒ logged and winning with the acknowledged choices.
  const acknowledged: string[] = [];
  const lost: string[] = [];
  const superseded: string[] = [];
  const twoAcknowledged: string[] = [];
  for (const [id, versions] of history.ballots) {
    const ok = [...versions.values()].filter((v) => versionStatus(v) === 'ok');
    if (ok.length === 0) continue;
    acknowledged.push(id);
    if (new Set(ok.map((v) => v.rowsKey)).size > 1) twoAcknowledged.push(id);
    const winner = winners.get(id);
    if (winner === undefined) lost.push(id);
    else if (ok.some((v) => v.rowsKey !== winner.rowsKey)) superseded.push(id);
  }
  const receiptMismatch = history.anomalies
    .filter((a) => a.what === 'receipt_mismatch')
    .map((a) => a.id ?? '');
  const a = verdict(
    'A',
    'every acknowledged ballot is in Kafka and wins for its ballotId with the acknowledged choices',
    {
      acknowledged: acknowledged.length,
      acknowledgedInKafka: acknowledged.length - lost.length,
      acknowledgedWinning: acknowledged.length - lost.length - superseded.length,
    },
    { lost, superseded, twoDifferentBallotsAcknowledged: twoAcknowledged, receiptMismatch },
  );

  // A2: acknowledged issuance ⇒ logged.
  const issued = [...history.voters].filter(([, s]) => s.okBlinded.size > 0).map(([v]) => v);
  const issuedNotLogged = issued.filter((v) => !log.issuance.has(v));
  const a2 = verdict(
    'A2',
    'every acknowledged credential issuance is in Kafka',
    { votersIssued: issued.length, votersInIssuanceLog: log.issuance.size },
    { issuedNotLogged },
  );

  // B: counted set = logged set, and nothing counted that was refused or never sent.
  const chSet = new Set(counted.codes);
  const neverSent: string[] = [];
  const refusedCounted: string[] = [];
  const winnerNotSent: string[] = [];
  for (const [id, winner] of winners) {
    const versions = history.ballots.get(id);
    if (versions === undefined) {
      neverSent.push(id);
      continue;
    }
    const same = [...versions.values()].filter((v) => v.rowsKey === winner.rowsKey);
    const statuses = new Set(same.map(versionStatus));
    if (same.length === 0 || (statuses.size === 1 && statuses.has('unsent'))) winnerNotSent.push(id);
    else if (!statuses.has('ok') && !statuses.has('unknown')) refusedCounted.push(id);
  }
  const bLists: Record<string, Iterable<string>> = {
    clickhouseMissing: minus(inLog, chSet),
    clickhouseExtra: minus(chSet, inLog),
    neverSent,
    refusedCounted,
    winnerNotSent,
  };
  const bNotes: string[] = [];
  const bSets: Record<string, number> = { kafka: inLog.size, clickhouse: chSet.size };
  if (snapshot === null) {
    bLists.noSnapshot = ['latest.json'];
  } else if (snapshot.codes === null) {
    bLists.snapshotCodesUnreadable = [`codes of seq ${snapshot.seq}`];
  } else {
    const snapSet = new Set(snapshot.codes);
    bSets.snapshot = snapSet.size;
    bLists.snapshotMissing = minus(inLog, snapSet);
    bLists.snapshotExtra = minus(snapSet, inLog);
    if (!snapshot.rootOk) bLists.codesFileRootMismatch = [snapshot.merkleRoot];
    if (merkleRoot([...inLog].sort()) !== snapshot.merkleRoot)
      bLists.merkleRootNotOfKafkaSet = [snapshot.merkleRoot];
    if (!input.snapshotFresh)
      bNotes.push(`snapshot ${snapshot.seq} (${snapshot.takenAt}) is older than the settled state`);
  }
  const b = verdict(
    'B',
    'the counted set (ClickHouse, snapshot codes and Merkle root) is the set of ballotIds in Kafka; nothing counted that was refused or never sent',
    bSets,
    bLists,
    bNotes,
  );

  // C and E: tallies, cell by cell.
  const expected = tallyOf(winners.values());
  const conflicts = [...log.ballots].filter(
    ([, records]) => new Set(records.map((r) => r.ballotHash)).size > 1,
  );
  const losersByCell = new Map<string, string[]>();
  for (const [id, records] of conflicts) {
    const winner = winners.get(id)!;
    for (const r of records) {
      if (r.ballotHash === winner.ballotHash) continue;
      for (const [race, candidate] of marksOf(r.rowsKey)) {
        const cell = cellKey(race, r.region, r.district, candidate);
        losersByCell.set(cell, [...(losersByCell.get(cell) ?? []), id]);
      }
    }
  }
  const over = (actual: Tally | null): CellDiff[] =>
    actual === null ? [] : diffTally(expected, actual).filter((d) => d.actual > d.expected);
  const overCells = [...over(snapshot?.tally ?? null), ...over(counted.tally)];
  const c = verdict(
    'C',
    'no credential counted with two ballots: no published or ClickHouse tally cell above the tally of the winners',
    {
      kafkaConflicts: conflicts.length,
      clickhouseStoredConflicts: counted.conflicts.length,
      overCountedCellsPublished: over(snapshot?.tally ?? null).length,
      overCountedCellsClickHouse: over(counted.tally).length,
    },
    {
      conflictsCounted: new Set(overCells.flatMap((d) => losersByCell.get(d.cell) ?? [])),
      overCountedCells: new Set(overCells.map(cellText)),
    },
  );
  const publishedDiff = snapshot === null ? [] : diffTally(expected, snapshot.tally);
  const chDiff = diffTally(expected, counted.tally);
  const e = verdict(
    'E',
    'published tally = ClickHouse tally = tally recomputed from the Kafka winners, per race/region/district/candidate',
    { cells: expected.size, publishedCellsOff: publishedDiff.length, clickhouseCellsOff: chDiff.length },
    {
      publishedCells: publishedDiff.map(cellText),
      clickhouseCells: chDiff.map(cellText),
      ...(snapshot === null ? { noSnapshot: ['latest.json'] } : {}),
    },
  );

  // D: one credential per voter.
  const twoCredentials = [...history.voters].filter(([, s]) => s.okBlinded.size > 1).map(([v]) => v);
  const twoSignatures = [...history.voters].filter(([, s]) => s.signatures.size > 1).map(([v]) => v);
  const loggedBlinded = [...log.issuance].some(([, records]) => records.some((r) => r.blindedHash !== null));
  const twoBlindedInKafka = [...log.issuance]
    .filter(([, records]) => new Set(records.map((r) => r.blindedHash).filter((h) => h !== null)).size > 1)
    .map(([v]) => v);
  const votedTwice = [...history.voters]
    .filter(([, s]) => [...s.credentials.values()].filter((id) => inLog.has(id)).length > 1)
    .map(([v]) => v);
  const badSignature = history.anomalies
    .filter((x) => x.what === 'bad_blind_signature')
    .map((x) => x.v ?? '');
  const dNotes = loggedBlinded
    ? []
    : [
        'issuance records carry no blindedHash yet: judged by what the client saw (at most one successful issuance, one blinded message, one blind signature per voter)',
      ];
  const d = verdict(
    'D',
    'no voter holds two credentials',
    {
      votersAskingForCredentials: history.voters.size,
      votersWithCredential: issued.length,
      issuanceRecords: log.issuanceRecords,
      votersInIssuanceLog: log.issuance.size,
    },
    {
      twoCredentials,
      twoBlindSignatures: twoSignatures,
      twoBlindedMessagesInKafka: twoBlindedInKafka,
      secondCredentialCounted: votedTwice,
      badBlindSignature: badSignature,
    },
    dNotes,
  );

  const l1 = verdict(
    'L1',
    'a snapshot was published after the system settled',
    { seq: snapshot?.seq ?? 0 },
    {
      noFreshSnapshot: input.snapshotFresh
        ? []
        : [snapshot === null ? 'none published' : `latest is seq ${snapshot.seq}`],
    },
  );
  const l2 = verdict(
    'L2',
    'no operator action was needed',
    { operatorActions: input.operatorActions.length },
    {
      operatorActions: input.operatorActions,
    },
  );
  return [a, a2, b, c, d, e, l1, l2];
}
