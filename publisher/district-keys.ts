/**
 * The districts' blind-signature public keys, as the results side publishes
 * them (DESIGN §3): one SHA-256 fingerprint per district, of the key's SPKI
 * DER — the bytes the election manifest carries as `districts[].key.spki`
 * (base64url). Every snapshot carries them in its signed part, and the
 * publisher also signs them once as `keys.json` (key-statement.ts), so a
 * voter client can check the key it is about to blind against from a second
 * origin before the first snapshot exists.
 *
 * Taken from the manifest (public keys), never from private key files: the
 * publisher holds no district signing key.
 */
import { createHash } from 'node:crypto';

export interface DistrictKeyFingerprint {
  readonly id: string;
  /** Lowercase hex SHA-256 of the key's SPKI DER. */
  readonly sha256: string;
}

/** Lowercase hex SHA-256 of an SPKI DER given in base64url. */
export function spkiSha256(spki: string): string {
  return createHash('sha256').update(Buffer.from(spki, 'base64url')).digest('hex');
}

/** Fingerprints of a manifest's district keys, in the manifest's (the config's) order. */
export function districtKeyFingerprints(manifest: {
  readonly districts: readonly { readonly id: string; readonly key: { readonly spki: string } }[];
}): DistrictKeyFingerprint[] {
  return manifest.districts.map((d) => ({ id: d.id, sha256: spkiSha256(d.key.spki) }));
}

/** The first difference between two fingerprint lists as a sentence, or `null` if they are the same. */
export function districtKeysDiffer(
  was: readonly DistrictKeyFingerprint[],
  now: readonly DistrictKeyFingerprint[],
): string | null {
  const before = new Map(was.map((k) => [k.id, k.sha256]));
  const after = new Map(now.map((k) => [k.id, k.sha256]));
  for (const [id, sha256] of after) {
    const old = before.get(id);
    if (old === undefined) return `district ${id} has a key it did not have`;
    if (old !== sha256)
      return `district ${id}'s key changed from ${old.slice(0, 16)}… to ${sha256.slice(0, 16)}…`;
  }
  for (const id of before.keys()) if (!after.has(id)) return `district ${id}'s key is no longer listed`;
  return null;
}
