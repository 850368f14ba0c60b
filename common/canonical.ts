/**
 * Canonical JSON: the exact bytes a signature covers — a result snapshot's
 * (publisher) and a paper protocol's (station key, ingest).
 *
 * It is RFC 8785 (JCS) restricted to documents whose numbers are all safe
 * integers, which makes it short enough to re-implement anywhere:
 *
 *   - objects: members sorted by key, comparing keys as UTF-16 code units
 *     (JavaScript's default `sort()`), written `{"k":v,…}`;
 *   - arrays: in order, `[v,…]`;
 *   - strings: as `JSON.stringify` writes them (ECMA-262 QuoteJSONString);
 *   - numbers: integers in ±(2^53−1), in decimal, no exponent, no `-0`;
 *   - `true`, `false`, `null`;
 *   - no whitespace anywhere; UTF-8 encoded; no trailing newline.
 *
 * A signed document's canonical form is that of the object with its
 * top-level `signature` member removed. Anything else (a float, `undefined`,
 * a function, a non-plain object) is refused rather than guessed at, so two
 * implementations can never disagree about the bytes.
 */
/** A value that has no canonical form; `path` names where (`$.results[2][1]`). */
export class NotCanonicalError extends Error {
  override readonly name = 'NotCanonicalError';
  readonly code = 'not_canonical';
}

/** A JSON value the canonical form accepts. */
export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue };

/** The canonical text of `value`. @throws NotCanonicalError */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

/** The canonical UTF-8 bytes of `value`, with the top-level `signature` member left out. */
export function canonicalBytes(document: object): Buffer {
  const { signature: _signature, ...rest } = document as Record<string, unknown>;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new NotCanonicalError(`${path}: ${value} is not a safe integer`);
      }
      return Object.is(value, -0) ? '0' : String(value);
    case 'object':
      break;
    default:
      throw new NotCanonicalError(`${path}: ${typeof value} has no JSON form`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => write(item, `${path}[${i}]`)).join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new NotCanonicalError(`${path}: only plain objects have a canonical form`);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const members: string[] = [];
  for (const key of keys) members.push(`${JSON.stringify(key)}:${write(record[key], `${path}.${key}`)}`);
  return `{${members.join(',')}}`;
}
