/**
 * The store scans, each its own verdict, over every unit the insider read
 * (`evidence/unit.ts`), looking for the run's own identifiers (the harness
 * knows every member id, voterHash and ballotId it used):
 *
 *   member-id      a member id anywhere
 *   co-located     a voterHash and a ballotId in the same unit (as text, or
 *                  as the SipHash-128 digest a ClickHouse uniqExact state keeps)
 *   address        a client address (IPv4/IPv6 literal) in a unit that also
 *                  names a voter or a ballot
 *   precise-time   a time finer than a whole minute in a unit that names a
 *                  ballot: record and batch timestamps, DateTime columns and
 *                  Unix-time numbers, Redis idle clocks, log lines
 *
 * ClickHouse part times are not judged here: a part holds many ballots and
 * the attack (`clocks.ts`, `parts`) measures what its time gives away.
 */
import type { Unit } from './evidence/unit.js';

export type ScanId = 'member-id' | 'co-located' | 'address' | 'precise-time';

export interface ScanVerdict {
  readonly id: ScanId;
  readonly pass: boolean;
  readonly what: string;
  /** Units found, by source. */
  readonly bySource: Record<string, number>;
  /** A few of them (where, never the values). */
  readonly examples: readonly string[];
}

export interface Identifiers {
  readonly memberIds: ReadonlySet<string>;
  readonly voterHashes: ReadonlySet<string>;
  readonly ballotIds: ReadonlySet<string>;
  /** Upper-case hex SipHash-128 digest → 'voter' | 'ballot' (from ClickHouse's own sipHash128). */
  readonly digests: ReadonlyMap<string, 'voter' | 'ballot'>;
}

const TOKEN = /[A-Za-z0-9]{10,}/g;
const IPV4 = /(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])/;
const IPV6 = /(?<![0-9a-f:])(?:::1|::ffff:[0-9.]+|(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4})(?![0-9a-f:])/i;
const MINUTE_MS = 60_000;

interface Found {
  member: boolean;
  voter: boolean;
  ballot: boolean;
}

function look(u: Unit, ids: Identifiers): Found {
  const found: Found = { member: false, voter: false, ballot: false };
  for (const token of u.text.match(TOKEN) ?? []) {
    if (ids.memberIds.has(token)) found.member = true;
    else if (ids.voterHashes.has(token)) found.voter = true;
    else if (ids.ballotIds.has(token)) found.ballot = true;
  }
  for (const hex of u.hex) {
    // States are byte strings: a digest may start at any byte.
    for (let i = 0; i + 32 <= hex.length && !(found.voter && found.ballot); i += 2) {
      const kind = ids.digests.get(hex.slice(i, i + 32));
      if (kind === 'voter') found.voter = true;
      else if (kind === 'ballot') found.ballot = true;
    }
  }
  return found;
}

/** Pino lines carry their time; a log line is a unit with a time. */
function linesTime(u: Unit): number[] {
  if (u.source !== 'logs') return [];
  const m = /"time":\s*(?:"([^"]+)"|(\d{12,}))/.exec(u.text);
  if (m === null) return [Number.NaN];
  return [m[1] === undefined ? Number(m[2]) : Date.parse(m[1])];
}

export function scan(units: readonly Unit[], ids: Identifiers): ScanVerdict[] {
  const hits: Record<ScanId, Unit[]> = { 'member-id': [], 'co-located': [], address: [], 'precise-time': [] };
  for (const u of units) {
    const f = look(u, ids);
    if (f.member) hits['member-id'].push(u);
    if (f.voter && f.ballot) hits['co-located'].push(u);
    if ((f.member || f.voter || f.ballot) && (IPV4.test(u.text) || IPV6.test(u.text))) hits.address.push(u);
    if (f.ballot) {
      const times = [...u.times, ...linesTime(u)];
      if (times.some((t) => !Number.isFinite(t) || t % MINUTE_MS !== 0)) hits['precise-time'].push(u);
    }
  }
  const what: Record<ScanId, string> = {
    'member-id': 'a member id anywhere',
    'co-located': 'a voterHash and a ballotId in the same key, record, row or line',
    address: 'a client address next to a voter or a ballot',
    'precise-time': 'a time finer than a whole minute next to a ballot',
  };
  return (Object.keys(hits) as ScanId[]).map((id) => {
    const bySource: Record<string, number> = {};
    for (const u of hits[id]) bySource[u.source] = (bySource[u.source] ?? 0) + 1;
    return {
      id,
      pass: hits[id].length === 0,
      what: what[id],
      bySource,
      examples: [
        ...new Set(hits[id].map((u) => `${u.source}: ${u.where.replace(/[A-Za-z0-9]{20,}/g, '…')}`)),
      ].slice(0, 8),
    };
  });
}
