/**
 * Server side of RFC 9474 RSABSSA-SHA384-PSS-Randomized.
 *
 *   client                                   ingest
 *   prepared = random(32) ‖ msg
 *   blinded  = EMSA-PSS(prepared)·rᵉ mod n ─► blindSign: s = blindedᵈ mod n
 *                                             check sᵉ mod n = blinded (§4.3)
 *   sig = s·r⁻¹ mod n          ◄──────────── s
 *   casts (prepared, sig)     ──────────────► verifyCredential: RSASSA-PSS(SHA-384, salt 48)
 *
 * The private operation is OpenSSL's raw RSA (`privateDecrypt` with no
 * padding: CRT with blinding), and its result is checked with the public
 * exponent before it leaves, so a fault in the CRT computation cannot leak a
 * factor of n (RFC 9474 §4.3, the Boneh–DeMillo–Lipton attack).
 */
import { constants, type KeyObject, privateDecrypt, publicEncrypt, verify } from 'node:crypto';

/** Salt length for PSS with SHA-384 (RFC 9474 §5: sLen = hLen = 48). */
export const PSS_SALT_BYTES = 48;

export class BlindSignError extends Error {
  constructor(
    readonly code: 'SAYLAU_ERR_BLIND_INPUT' | 'SAYLAU_ERR_BLIND_FAULT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Modulus length in bytes of an RSA key. */
export function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new TypeError('not an RSA key');
  return Math.ceil(bits / 8);
}

/** The big-endian modulus, for cheap `m < n` checks on the event loop. */
export function modulusOf(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.n === undefined) throw new TypeError('not an RSA key');
  return Buffer.from(jwk.n, 'base64url');
}

/** True when `blinded` is a valid RSABSSA blinded message for a modulus: kLen bytes, < n. */
export function isBlindedMessageInRange(blinded: Uint8Array, modulus: Buffer): boolean {
  return blinded.length === modulus.length && Buffer.compare(blinded, modulus) < 0;
}

/**
 * BlindSign (RFC 9474 §4.3): s = blinded^d mod n, checked with s^e mod n.
 * Throws {@link BlindSignError} on a bad input or a failed check.
 */
export function blindSign(privateKey: KeyObject, publicKey: KeyObject, blinded: Uint8Array): Buffer {
  const kLen = modulusBytes(publicKey);
  if (blinded.length !== kLen) {
    throw new BlindSignError('SAYLAU_ERR_BLIND_INPUT', `blinded message must be ${kLen} bytes`);
  }
  let signature: Buffer;
  try {
    signature = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, blinded);
  } catch (cause) {
    // OpenSSL refuses inputs ≥ n ("data too large for modulus").
    throw new BlindSignError('SAYLAU_ERR_BLIND_INPUT', 'blinded message out of range', { cause });
  }
  const check = publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
  if (!check.equals(blinded)) {
    throw new BlindSignError('SAYLAU_ERR_BLIND_FAULT', 'blind signature failed its verification');
  }
  return signature;
}

/** Verifies a finalized credential: RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48, over the prepared message. */
export function verifyCredential(publicKey: KeyObject, prepared: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== modulusBytes(publicKey)) return false;
  return verify(
    'sha384',
    prepared,
    { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_BYTES },
    signature,
  );
}
