/**
 * Reconcile for the paper channel (issue 15), one election: what Kafka holds
 * against what ClickHouse stored, compared as sets.
 *
 *   paper     protocols   {precinct, version, signature} acknowledged = stored in paper_protocol_versions
 *             dissents    {id}                          acknowledged = stored in paper_dissents
 *   issuance  check-ins   per precinct: distinct voterHashes (channel paper) = paper_checkins
 *
 * The scan is incremental in memory: a {@link PaperScan} remembers the
 * offsets it read to and the sets so far, so a run reads what arrived since
 * the last (the first run after a restart reads from the election's log
 * start). Check-ins keep only paper voterHashes; online issuance records are
 * skipped by a substring test before they are parsed.
 */
import type { LogReader, PartitionOffsets } from '../common/kafka/log-reader.js';
import { PAPER_KINDS, TOPICS } from '../common/records.js';
import type { ClickHouse } from './client.js';
import { paperCheckIns, paperDissents, paperProtocols } from './queries.js';
import { STREAMS } from './streams.js';

export const PAPER_TOPICS = [TOPICS.paper, TOPICS.issuance] as const;
export const PAPER_STREAMS = STREAMS.filter((s) => s.name.startsWith('paper_'));

const protocolId = (precinct: string, version: number, signature: string): string =>
  `${precinct} v${version} ${signature.slice(0, 12)}`;

export class PaperScan {
  readonly #election: string;
  readonly #needle: Buffer;
  readonly #paperNeedle = Buffer.from('"channel":"paper"');
  /** `topic/partition` → the next offset to read. */
  readonly #next: PartitionOffsets = new Map();
  readonly protocols = new Set<string>();
  readonly dissents = new Set<string>();
  readonly checkIns = new Map<string, Set<string>>();

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
    if (topic === TOPICS.issuance && !value.includes(this.#paperNeedle)) return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (r === null || typeof r !== 'object' || r.v !== 1 || r.election !== this.#election) return;
    if (topic === TOPICS.issuance) {
      const { precinct, voterHash } = r;
      if (r.channel !== 'paper' || typeof precinct !== 'string' || precinct === '') return;
      if (typeof voterHash !== 'string' || voterHash === '') return;
      const set = this.checkIns.get(precinct) ?? new Set<string>();
      set.add(voterHash);
      this.checkIns.set(precinct, set);
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
    const stored = new Map(checkIns.map((c) => [c.precinct, c.checkIns]));
    for (const precinct of [...new Set([...this.checkIns.keys(), ...stored.keys()])].sort()) {
      const log = this.checkIns.get(precinct)?.size ?? 0;
      const kept = stored.get(precinct) ?? 0;
      if (kept > log) more = true;
      if (log !== kept)
        problems.push(`${e} paper ${precinct}: ${log} check-ins acknowledged ≠ stored ${kept}`);
    }
    return { problems, more };
  }
}
