/**
 * The CSV download: one row per (race, region, district, candidate), derived
 * from the snapshot JSON and nothing else, so `verify` can regenerate it and
 * compare bytes. RFC 4180 quoting, `\n` line ends, UTF-8, header first.
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

function field(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
