/**
 * ClickHouse as an insider with a read-only login sees it: every row of
 * every table of the saylau database (aggregate states as the hex of their
 * bytes: a uniqExact state of strings is the list of their SipHash-128
 * digests), the parts of every table with their modification times, and
 * which part holds which ballot. Kafka engine tables are never read (a read
 * consumes); views are read through their target tables.
 */
import { ClickHouse } from '../../../aggregator/client.js';
import { idLiteral } from '../../../aggregator/sql.js';
import type { Config } from '../../../common/config.js';
import { type Unit, unit } from './unit.js';

export interface PartInfo {
  readonly table: string;
  readonly name: string;
  readonly modifiedMs: number;
  readonly rows: number;
  readonly active: boolean;
}

export interface ClickHouseEvidence {
  readonly units: Unit[];
  readonly tables: readonly string[];
  readonly parts: readonly PartInfo[];
  /** ballotId → the part of `ballots_raw` (or any table with a ballot_id column) it is stored in. */
  readonly partOf: Map<string, PartInfo>;
}

const SKIPPED_ENGINES = new Set(['Kafka', 'MaterializedView', 'View', 'Null']);

/** A number that reads as a Unix time (s or ms) from 2001 to 2096. */
export function asEpochMs(value: unknown): number | null {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  if (n >= 1e9 && n < 4e9) return n * 1000;
  if (n >= 1e12 && n < 4e12) return n;
  return null;
}

export async function readClickHouse(config: Config, election: string): Promise<ClickHouseEvidence> {
  const ch = new ClickHouse(config);
  const db = idLiteral(ch.database);
  const out: ClickHouseEvidence = { units: [], tables: [], parts: [], partOf: new Map() };
  try {
    const tables = await ch.rows<{ name: string; engine: string }>(
      `SELECT name, engine FROM system.tables WHERE database = ${db} ORDER BY name`,
    );
    const columns = await ch.rows<{ table: string; name: string; type: string }>(
      `SELECT table, name, type FROM system.columns WHERE database = ${db}`,
    );
    for (const { name: table, engine } of tables) {
      if (SKIPPED_ENGINES.has(engine)) continue;
      (out.tables as string[]).push(table);
      const cols = columns.filter((c) => c.table === table);
      const select = cols.map((c) => {
        const q = `\`${c.name}\``;
        if (c.type.startsWith('AggregateFunction')) return `hex(toString(${q})) AS ${q}`;
        if (c.type.startsWith('DateTime') || c.type === 'Date') return `toUnixTimestamp(${q}) AS ${q}`;
        return q;
      });
      const where = cols.some((c) => c.name === 'election') ? `WHERE election = ${idLiteral(election)}` : '';
      // Rows with one key are one row once merged (any time now): read them merged.
      const final = /^(Aggregating|Replacing|Summing|Collapsing|VersionedCollapsing)MergeTree/.test(engine)
        ? 'FINAL'
        : '';
      const rows = await ch.rows<Record<string, unknown>>(
        `SELECT ${select.join(', ')} FROM \`${table}\` ${final} ${where}`,
      );
      const hexCols = new Set(cols.filter((c) => c.type.startsWith('AggregateFunction')).map((c) => c.name));
      rows.forEach((row, i) => {
        const hex: string[] = [];
        const times: number[] = [];
        const text: string[] = [];
        for (const [k, v] of Object.entries(row)) {
          if (hexCols.has(k)) hex.push(String(v));
          else text.push(JSON.stringify(v));
          const t = asEpochMs(v);
          if (t !== null) times.push(t);
        }
        out.units.push(unit('clickhouse', `${table}#${i}`, text.join(' '), { hex, times }));
      });
    }
    const parts = await ch.rows<{ table: string; name: string; t: string; rows: string; active: number }>(
      `SELECT table, name, toUnixTimestamp(modification_time) AS t, rows, active FROM system.parts WHERE database = ${db}`,
    );
    for (const p of parts) {
      const info = {
        table: p.table,
        name: p.name,
        modifiedMs: Number(p.t) * 1000,
        rows: Number(p.rows),
        active: p.active === 1,
      };
      (out.parts as PartInfo[]).push(info);
      out.units.push(
        unit('clickhouse', `system.parts ${p.table}/${p.name}`, `${p.table} ${p.name} ${p.rows}`, {
          times: [info.modifiedMs],
        }),
      );
    }
    const byName = new Map(out.parts.filter((p) => p.active).map((p) => [`${p.table}/${p.name}`, p]));
    const ballotTables = [
      ...new Set(columns.filter((c) => c.name === 'ballot_id').map((c) => c.table)),
    ].filter((t) => out.tables.includes(t));
    for (const table of ballotTables) {
      const rows = await ch.rows<{ part: string; ballot_id: string }>(
        `SELECT _part AS part, ballot_id FROM \`${table}\` WHERE election = ${idLiteral(election)}`,
      );
      for (const r of rows) {
        const part = byName.get(`${table}/${r.part}`);
        if (part === undefined) continue;
        const before = out.partOf.get(r.ballot_id);
        // The earliest-written part holding a ballot bounds its arrival best.
        if (before === undefined || part.modifiedMs < before.modifiedMs) out.partOf.set(r.ballot_id, part);
      }
    }
  } finally {
    await ch.close();
  }
  return out;
}
