/**
 * Before blinding, the district key ingest served is checked against the one
 * the results site published (DESIGN §3; issue 14): a per-voter key would
 * let ingest recognise that voter's ballot later. The results site is a
 * second origin; its `keys.json` lists each district key's SHA-256 (of the
 * SPKI DER), signed by the snapshot key (publisher/key-statement.ts).
 *
 * The signature is checked with the snapshot key of the election summary
 * the page already has from ingest, so the two origins must agree: to make
 * a voter blind against a key of its choosing, an attacker must control what
 * both serve (and, for the real snapshot key, hold its private half, which
 * only the publisher has). A key taken from the results site would only let
 * that site vouch for itself.
 *
 *   match      the statement verifies and lists this key    → go on
 *   mismatch   it does not verify, or lists another key     → refuse
 *   unchecked  no statement could be fetched (site down, 404, timeout, not JSON)
 *              → go on: voting must not depend on the results site (DESIGN
 *              promise 5); a server that changes only the keys it serves cannot
 *              make the browser miss the other origin, but whoever also sets
 *              ingest's PUBLISHER_PORT, or blocks the results site, can.
 *
 * A browser without WebCrypto Ed25519 still compares the fingerprints: the
 * cross-origin comparison is what catches ingest; the signature adds
 * protection against a tampered copy of the results site.
 */
import { fromB64u } from './bytes.js';
import type { District, ElectionSummary } from './manifest.js';

export type KeyCheck = 'match' | 'mismatch' | 'unchecked';

/** A slow link gets this long; then the check is skipped rather than voting held up. */
const FETCH_TIMEOUT_MS = 10_000;

interface Statement {
  readonly election?: unknown;
  readonly districtKeys?: readonly { readonly id?: unknown; readonly sha256?: unknown }[];
  readonly signature?: unknown;
}

/** Canonical JSON (publisher/canonical.ts): sorted keys, no whitespace; the statement has no floats. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

async function signatureOk(summary: ElectionSummary, statement: Statement): Promise<boolean> {
  const { signature, ...signed } = statement;
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('spki', fromB64u(summary.snapshotKey.spki), 'Ed25519', false, [
      'verify',
    ]);
  } catch (err) {
    // No Ed25519 in this browser: compare fingerprints only. A key that is not one (DataError) fails.
    return (err as DOMException).name === 'NotSupportedError';
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromB64u(String(signature));
  } catch {
    return false; // not base64url: no signature at all
  }
  return crypto.subtle
    .verify('Ed25519', key, bytes, new TextEncoder().encode(canonical(signed)))
    .catch(() => false);
}

export async function checkDistrictKey(
  resultsBase: string,
  summary: ElectionSummary,
  district: District,
): Promise<KeyCheck> {
  let statement: Statement;
  try {
    const res = await fetch(`${resultsBase}keys.json`, {
      cache: 'no-store',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!res.ok) return 'unchecked';
    statement = (await res.json()) as Statement;
  } catch {
    return 'unchecked';
  }
  if (statement?.election !== summary.id || !(await signatureOk(summary, statement))) return 'mismatch';
  const digest = await crypto.subtle.digest('SHA-256', fromB64u(district.key.spki));
  const own = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  const published = statement.districtKeys?.find((k) => k.id === district.id)?.sha256;
  return published === own ? 'match' : 'mismatch';
}
