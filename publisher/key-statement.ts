/**
 * `keys.json`: the district key fingerprints (district-keys.ts), signed with
 * the snapshot key, written by the publisher when it starts — before the
 * first snapshot — so a voter client always has something to check the key
 * it blinds against (ingest/client/src/key-check.ts).
 *
 *   {v: 1, election, districtKeys: [{id, sha256}], signature}
 *
 * Same canonical form and signature rule as a snapshot (README): Ed25519
 * over the canonical JSON without `signature`. It holds no time, so the
 * bytes are a function of the election and its keys: the publisher writes
 * it once and on every later start checks that it would write the same
 * (keys never change mid-election; a different key set stops it with
 * `district_keys_changed`).
 */
import type { KeyObject } from 'node:crypto';
import { sign, verify } from 'node:crypto';
import { canonicalBytes } from '../common/canonical.js';
import type { DistrictKeyFingerprint } from './district-keys.js';
import { PublisherError } from './errors.js';

export const KEYS_PATH = 'keys.json';

export interface KeyStatement {
  readonly v: 1;
  readonly election: string;
  readonly districtKeys: readonly DistrictKeyFingerprint[];
  /** Ed25519 over the canonical form, base64url. */
  readonly signature: string;
}

export function signKeyStatement(
  election: string,
  districtKeys: readonly DistrictKeyFingerprint[],
  privateKey: KeyObject,
): KeyStatement {
  const unsigned = { v: 1 as const, election, districtKeys };
  return { ...unsigned, signature: sign(null, canonicalBytes(unsigned), privateKey).toString('base64url') };
}

/**
 * The statement in `text` if it is one and its signature verifies with `publicKey`.
 * @throws PublisherError `snapshot_malformed` or `bad_signature`
 */
export function readKeyStatement(text: string, publicKey: KeyObject): KeyStatement {
  let value: KeyStatement;
  try {
    value = JSON.parse(text) as KeyStatement;
  } catch (cause) {
    throw new PublisherError('snapshot_malformed', `${KEYS_PATH} is not JSON`, { cause });
  }
  const shaped =
    value !== null &&
    typeof value === 'object' &&
    value.v === 1 &&
    typeof value.election === 'string' &&
    typeof value.signature === 'string' &&
    Array.isArray(value.districtKeys) &&
    value.districtKeys.every(
      (k) => typeof k?.id === 'string' && typeof k.sha256 === 'string' && /^[0-9a-f]{64}$/.test(k.sha256),
    ) &&
    Object.keys(value).length === 4;
  if (!shaped) throw new PublisherError('snapshot_malformed', `${KEYS_PATH} is not a key statement`);
  const signature = Buffer.from(value.signature, 'base64url');
  if (signature.length !== 64 || !verify(null, canonicalBytes(value), publicKey, signature)) {
    throw new PublisherError('bad_signature', `${KEYS_PATH}: the signature does not verify`);
  }
  return value;
}

/** The file's bytes (one line, like `latest.json`). */
export const keyStatementText = (statement: KeyStatement): string => `${JSON.stringify(statement)}\n`;
