/**
 * Blind signatures kept for identical issuance retries (same voter, same
 * blinded message), so a retry — or a flood of them — costs a Redis GET
 * instead of an RSA private-key operation. Shared by every process of the
 * host through Redis, for `SIGNATURE_TTL_MS`.
 *
 * Why this is safe to store: a blind signature is unlinkable to the ballot
 * (the blinding factor never leaves the voter's device, RFC 9474 §7.3), and
 * still the cache stores nothing an insider can read: the key is an HMAC
 * under the host secret of (election, voterHash, blindedHash), the value the
 * signature sealed with AES-GCM under it — without the secret the entry
 * names no voter, and the signature cannot be matched to the issuance
 * record's `blindedHash`. An entry lives 2 minutes (a retry comes within
 * seconds), so its TTL tells nothing beyond "some credential was issued
 * lately". Redis losing it costs one recomputation (raw RSA is
 * deterministic: the same signature).
 */
import type { Redis } from 'ioredis';
import type { HostSecret } from './host-secret.js';

/** Long enough for a client's retries (Retry-After ≤ 5 s, back-off ≤ 30 s), short enough to keep Redis small. */
export const SIGNATURE_TTL_MS = 120_000;

export class SignatureCache {
  constructor(
    private readonly redis: Redis,
    private readonly secret: HostSecret,
    private readonly election: string,
  ) {}

  #key(voterHash: string, blindedHash: string): string {
    return `blindsig:${this.secret.name('blindsig', this.election, voterHash, blindedHash)}`;
  }

  async get(voterHash: string, blindedHash: string): Promise<Buffer | null> {
    const key = this.#key(voterHash, blindedHash);
    const sealed = await this.redis.getBuffer(key);
    return sealed === null ? null : this.secret.open(sealed, key);
  }

  async put(voterHash: string, blindedHash: string, signature: Buffer): Promise<void> {
    const key = this.#key(voterHash, blindedHash);
    await this.redis.set(key, this.secret.seal(signature, key), 'PX', SIGNATURE_TTL_MS);
  }
}
