/**
 * Everything the insider read, cut into units: one Redis key (or hash field,
 * or set member), one Kafka record, one ClickHouse row, one log or metrics
 * line, one file. "In the same record" in the scans means in the same unit.
 * `text` is what a person with read access sees (aggregate states as hex).
 */
export interface Unit {
  /** redis | redis-files | kafka | clickhouse | logs | metrics | public */
  readonly source: string;
  /** Where: key, topic/partition/offset, table, file:line. */
  readonly where: string;
  readonly text: string;
  /** Hex strings (ClickHouse aggregate states) searched for digests of ids. */
  readonly hex: readonly string[];
  /** Epoch ms values stored in the unit (record timestamps, DateTime columns, idle times). */
  readonly times: readonly number[];
}

export const unit = (
  source: string,
  where: string,
  text: string,
  extra: { hex?: readonly string[]; times?: readonly number[] } = {},
): Unit => ({ source, where, text, hex: extra.hex ?? [], times: extra.times ?? [] });
