/**
 * Fixed-length JSON bodies for the cast route.
 *
 * Response size is a side channel (DESIGN §4: encrypted traffic length has
 * revealed votes elsewhere), so every answer to `POST /v1/ballots`, success or
 * refusal, is padded with a `pad` field of spaces to exactly `size` bytes.
 */

/** Every cast response body is exactly this many bytes. */
export const CAST_BODY_BYTES = 256;

const PAD_PREFIX = ',"pad":"';
const PAD_SUFFIX = '"}';

/** Serialises `value` (an object with ASCII-only content) padded to exactly `size` bytes. */
export function padJson(value: object, size: number): Buffer {
  const json = JSON.stringify(value);
  const head = Buffer.byteLength(json) - 1; // without the closing brace
  const padLength = size - head - PAD_PREFIX.length - PAD_SUFFIX.length;
  if (padLength < 0) throw new RangeError(`body of ${head + 1} bytes does not fit in ${size}`);
  const out = Buffer.allocUnsafe(size);
  let at = out.write(json.slice(0, -1), 0, 'utf8');
  at += out.write(PAD_PREFIX, at, 'latin1');
  out.fill(0x20, at, at + padLength);
  out.write(PAD_SUFFIX, at + padLength, 'latin1');
  return out;
}
