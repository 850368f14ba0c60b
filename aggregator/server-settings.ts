/**
 * Checks the server-side settings the Kafka engine of 18.16 reads from the
 * default profile (it has no per-table equivalents). Missing ones are
 * warnings, not errors: the pipeline works, it is just less safe (README,
 * "Server settings").
 */
import type { ClickHouse } from './client.js';

interface SettingRow {
  readonly name: string;
  readonly value: string;
}

export async function checkServerSettings(ch: ClickHouse): Promise<string[]> {
  const rows = await ch.rows<SettingRow>(
    `SELECT name, value FROM system.settings
     WHERE name IN ('input_format_allow_errors_num', 'input_format_allow_errors_ratio', 'min_insert_block_size_rows')`,
  );
  const value = (name: string): number => Number(rows.find((r) => r.name === name)?.value ?? '0');
  const warnings: string[] = [];
  if (value('input_format_allow_errors_num') === 0 && value('input_format_allow_errors_ratio') === 0) {
    warnings.push(
      'ClickHouse default profile does not allow input errors: one unparseable record on a topic stops ' +
        'that stream until it is removed (set input_format_allow_errors_num, README "Server settings")',
    );
  }
  if (value('min_insert_block_size_rows') > 100_000) {
    warnings.push(
      'ClickHouse default profile squashes inserts (min_insert_block_size_rows): the Kafka engine writes a ' +
        'ballot only when its read stream ends, up to stream_flush_interval_ms later (README "Freshness")',
    );
  }
  return warnings;
}
