/**
 * Reconcile for the paper channel (issue 15), one election: what Kafka holds
 * against what ClickHouse stored, compared as sets.
 *
 *   paper     protocols   {precinct, version, signature} acknowledged = stored in paper_protocol_versions
 *             dissents    {id}                          acknowledged = stored in paper_dissents
 *   issuance  check-ins   per precinct: voters whose only blindedHash is     = paperCheckIns (issuance_voters)
 *                         its check-in, and conflicted voters with a paper record there
 *
 * Check-ins follow the query's rule (aggregator/queries.ts `paperCheckIns`):
 * a voter all of whose issuance records, both channels, carry `paper:P`
 * counts at P; a voter with a second hash (a losing record left by a fault)
 * counts nowhere and is reported as conflicted at each precinct it has a
 * paper record at.
 *
 * The scan is incremental in memory: a {@link PaperScan} remembers the
 * offsets it read to and what it kept so far, so a run reads what arrived
 * since the last (the first run after a restart reads from the election's
 * log start). Per voter it keeps its first hash, whether another followed,
 * and the precincts of its paper records (~200 bytes a voter: 160 MB at
 * 800,000 voters).
 */
import type { LogReader, PartitionOffsets } from '../common/kafka/log-reader.js';
import { PAPER_KINDS, paperCheckInHash, TOPICS } from '../common/records.js';
import type { ClickHouse } from './client.js';
import { paperCheckIns, paperDissents, paperProtocols } from './queries.js';
import { STREAMS } from './streams.js';

export const PAPER_TOPICS = [TOPICS.paper, TOPICS.issuance] as const;
const PAPER_STREAM_NAMES: ReadonlySet<string> = new Set([
  'paper_protocol_versions',
  'paper_dissents',
  'issuance_voters',
]);
export const PAPER_STREAMS = STREAMS.filter((s) => PAPER_STREAM_NAMES.has(s.name));

/** A precinct's check-ins: voters counted there, and conflicted voters with a paper record there. */
export interface PrecinctCheckIns {
  checkIns: number;
  conflicted: number;
}

const protocolId = (precinct: string, version: number, signature: string): string =>
  `${precinct} v${version} ${signature.slice(0, 12)}`;

export class PaperScan {
  readonly #election: string;
  readonly #needle: Buffer;
  /** `topic/partition` → the next offset to read. */
  readonly #next: PartitionOffsets = new Map();
  readonly protocols = new Set<string>();
  readonly dissents = new Set<string>();
  /** voterHash → the blindedHash of its first issuance record read. */
  readonly #hashOf = new Map<string, string>();
  /** voterHashes with records of more than one blindedHash. */
  readonly #conflicted = new Set<string>();
  /** voterHash → the precincts of its paper check-in records. */
  readonly #paperAt = new Map<string, string[]>();

  constructor(election: string) {
    this.#election = election;
    this.#needle = Buffer.from(`"election":${JSON.stringify(election)}`);
  }

  /** Reads from where the last scan stopped (or `start`) up to `ends`. */
  async scanTo(
    reader: LogReader,
    ends: PartitionOffsets,
    start: PartitionOffsets,
    timeoutMs: number,
  ): Promise<void> {
    const from: PartitionOffsets = new Map();
    for (const key of ends.keys()) from.set(key, this.#next.get(key) ?? start.get(key) ?? 0);
    await reader.readRange(
      from,
      ends,
      (batch) => {
        for (const { value } of batch.records) {
          if (value?.includes(this.#needle)) this.#add(batch.topic, value);
        }
        const last = batch.records[batch.records.length - 1]!.offset;
        this.#next.set(`${batch.topic}/${batch.partition}`, last + 1);
      },
      timeoutMs,
    );
    for (const [key, end] of ends) if ((this.#next.get(key) ?? 0) < end) this.#next.set(key, end);
  }

  #add(topic: string, value: Buffer): void {
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (r === null || typeof r !== 'object' || r.v !== 1 || r.election !== this.#election) return;
    if (topic === TOPICS.issuance) {
      const { voterHash, blindedHash, precinct } = r;
      if (typeof voterHash !== 'string' || voterHash === '') return;
      if (typeof blindedHash !== 'string' || blindedHash === '') return;
      const first = this.#hashOf.get(voterHash);
      if (first === undefined) this.#hashOf.set(voterHash, blindedHash);
      else if (first !== blindedHash) this.#conflicted.add(voterHash);
      // The view's test (queries.ts PAPER_RECORD): channel paper, its own precinct's hash.
      if (r.channel !== 'paper' || typeof precinct !== 'string' || precinct === '') return;
      if (blindedHash !== paperCheckInHash(precinct)) return;
      const precincts = this.#paperAt.get(voterHash);
      if (precincts === undefined) this.#paperAt.set(voterHash, [precinct]);
      else if (!precincts.includes(precinct)) precincts.push(precinct);
    } else if (r.kind === PAPER_KINDS.protocol) {
      const { precinct, version, signature } = r;
      if (typeof precinct !== 'string' || precinct === '' || !Number.isSafeInteger(version)) return;
      if ((version as number) < 1) return;
      this.protocols.add(
        protocolId(precinct, version as number, typeof signature === 'string' ? signature : ''),
      );
    } else if (r.kind === PAPER_KINDS.dissent) {
      if (typeof r.id === 'string' && r.id !== '' && typeof r.precinct === 'string' && r.precinct !== '') {
        this.dissents.add(r.id);
      }
    }
  }

  /** Check-ins per precinct as read so far: a conflicted voter is counted nowhere, shown as conflicted. */
  checkIns(): Map<string, PrecinctCheckIns> {
    const out = new Map<string, PrecinctCheckIns>();
    for (const [voter, precincts] of this.#paperAt) {
      const conflicted = this.#conflicted.has(voter);
      for (const precinct of precincts) {
        const c = out.get(precinct) ?? { checkIns: 0, conflicted: 0 };
        if (conflicted) c.conflicted += 1;
        else c.checkIns += 1;
        out.set(precinct, c);
      }
    }
    return out;
  }

  /** Mismatches as lines; `more` when ClickHouse holds something the scan has not reached. */
  async compare(ch: ClickHouse): Promise<{ problems: string[]; more: boolean }> {
    const e = this.#election;
    const [protocols, dissents, checkIns] = await Promise.all([
      paperProtocols(ch, e),
      paperDissents(ch, e),
      paperCheckIns(ch, e),
    ]);
    const problems: string[] = [];
    let more = false;
    const sets = (what: string, log: ReadonlySet<string>, stored: ReadonlySet<string>): void => {
      for (const id of log)
        if (!stored.has(id)) problems.push(`${e} paper: ${what} ${id} acknowledged, not stored`);
      for (const id of stored) {
        if (!log.has(id)) {
          more = true;
          problems.push(`${e} paper: ${what} ${id} stored, not in the log`);
        }
      }
    };
    sets(
      'protocol',
      this.protocols,
      new Set(protocols.map((p) => protocolId(p.precinct, p.version, p.signature))),
    );
    sets('dissent', this.dissents, new Set(dissents.map((d) => d.id)));
    const stored = new Map(checkIns.map((c) => [c.precinct, c]));
    const read = this.checkIns();
    for (const precinct of [...new Set([...read.keys(), ...stored.keys()])].sort()) {
      const log = read.get(precinct) ?? { checkIns: 0, conflicted: 0 };
      const kept = stored.get(precinct) ?? { checkIns: 0, conflicted: 0 };
      // Records the scan has not reached add voters or make counted ones conflicted.
      if (kept.checkIns > log.checkIns || kept.conflicted > log.conflicted) more = true;
      if (kept.checkIns !== log.checkIns)
        problems.push(
          `${e} paper ${precinct}: ${log.checkIns} check-ins acknowledged ≠ stored ${kept.checkIns}`,
        );
      if (kept.conflicted !== log.conflicted) {
        problems.push(
          `${e} paper ${precinct}: ${log.conflicted} conflicted check-ins acknowledged ≠ stored ${kept.conflicted}`,
        );
      }
    }
    return { problems, more };
  }
}
