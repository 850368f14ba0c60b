/**
 * Ed25519 signatures over a snapshot's canonical bytes (canonical.ts).
 * The key is the election's snapshot key (election/keys.ts); its public half
 * is published in the election manifest as SPKI DER, base64url.
 */
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalBytes } from '../common/canonical.js';
import { PublisherError } from './errors.js';
import type { Snapshot, UnsignedSnapshot } from './snapshot.js';

/** Hex SHA-256 of a snapshot's canonical bytes: the next snapshot's `prevHash`. */
export function snapshotHash(snapshot: UnsignedSnapshot | Snapshot): string {
  return createHash('sha256').update(canonicalBytes(snapshot)).digest('hex');
}

export function signSnapshot(unsigned: UnsignedSnapshot, privateKey: KeyObject): Snapshot {
  return signDocument(unsigned, privateKey);
}

export function verifySnapshotSignature(snapshot: Snapshot, publicKey: KeyObject): boolean {
  return verifyDocument(snapshot, publicKey);
}

/** Any document the snapshot key signs (a snapshot, a district protocol): `signature` over its canonical form. */
export function signDocument<D extends object>(
  unsigned: D,
  privateKey: KeyObject,
): D & { readonly signature: string } {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new PublisherError('key_invalid', `snapshot key is ${privateKey.asymmetricKeyType}, not ed25519`);
  }
  const signature = sign(null, canonicalBytes(unsigned), privateKey).toString('base64url');
  return { ...unsigned, signature };
}

export function verifyDocument(document: { readonly signature: string }, publicKey: KeyObject): boolean {
  const signature = Buffer.from(document.signature, 'base64url');
  if (signature.length !== 64) return false;
  return verify(null, canonicalBytes(document), publicKey, signature);
}

/** Reads a public key given as SPKI DER in base64url (the manifest's `snapshotKey.spki`). */
export function publicKeyFromSpki(spki: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki, 'base64url'), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new PublisherError('key_invalid', 'the snapshot key is not SPKI DER in base64url', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new PublisherError('key_invalid', `the snapshot key is ${key.asymmetricKeyType}, not ed25519`);
  }
  return key;
}
