/**
 * Splicing values into SQL text.
 *
 * ClickHouse 18.16 has no query parameters (`{name:Type}` arrives in 19.x; the
 * server answers `Unknown setting param_x`), so values go into the text.
 * Only two kinds ever do: election ids and ballot ids, both checked against
 * a strict pattern first, and then quoted anyway.
 */
import { AggregatorError } from './errors.js';

/** Election, region and ballot ids: letters, digits and `._:-`, at most 128 characters. */
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Returns `value` as a quoted ClickHouse string literal, refusing anything that is not a plain id. */
export function idLiteral(value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new AggregatorError('invalid_identifier', `refusing to use ${JSON.stringify(value)} in SQL`);
  }
  return `'${value}'`;
}

/** Quotes any string as a ClickHouse literal (backslash and quote escaped); for constant DDL settings. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
