/**
 * The CSV downloads: one row per (race, region, district, candidate), and
 * (v3) one per paper precinct; derived from the snapshot JSON and nothing
 * else, so `verify` can regenerate them and compare bytes. RFC 4180 quoting,
 * `\n` line ends, UTF-8, header first.
 */
import type { Snapshot, UnsignedSnapshot } from './snapshot.js';

const HEADER = [
  'race',
  'region',
  'district',
  'candidate',
  'status',
  'online',
  'paper',
  'total',
  'name_kk',
  'name_ru',
  'name_en',
];

export function snapshotCsv(s: UnsignedSnapshot | Snapshot): string {
  const lines = [HEADER.join(',')];
  for (const race of s.races) {
    for (const region of race.regions) {
      for (const d of region.districts) {
        d.total.candidates.forEach((k, i) => {
          const c = race.candidates[i]!;
          const row = [race.id, region.code, d.id, k.id, c.status, k.online, k.paper, k.total];
          lines.push([...row.map(String), c.names.kk, c.names.ru, c.names.en].map(field).join(','));
        });
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const PRECINCT_HEADER = [
  'precinct',
  'region',
  'district',
  'status',
  'rejection',
  'version',
  'reason',
  'issued',
  'spoiled',
  'unused',
  'check_ins',
  'key_id',
  'signature',
  'dissents',
];

/** One row per paper precinct; dissents joined as `v<version> <author>: <text>`, one per line. */
export function precinctsCsv(s: UnsignedSnapshot | Snapshot): string {
  const lines = [PRECINCT_HEADER.join(',')];
  for (const p of s.precincts ?? []) {
    const dissents = p.dissents.map((d) => `v${d.version} ${d.author}: ${d.text}`).join('\n');
    const row = [p.id, p.region, p.district, p.status, p.rejection, p.version, p.reason, p.issued, p.spoiled];
    const rest = [p.unused, p.checkIns, p.keyId, p.signature, dissents];
    lines.push([...row, ...rest].map((v) => field(String(v))).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function field(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
