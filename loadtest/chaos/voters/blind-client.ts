/**
 * The voter's side of RFC 9474 RSABSSA-SHA384-PSS-Randomized on native
 * BigInt and node:crypto, for the harness's real voters:
 *
 *   prepared = random(32) ‖ msg(32)
 *   EM  = EMSA-PSS-ENCODE(prepared, modBits − 1)   SHA-384, MGF1-SHA-384, salt 48 (RFC 8017 §9.1.1)
 *   blinded = OS2IP(EM) · rᵉ mod n,   inv = r⁻¹ mod n          ─► POST /v1/credentials
 *   sig = blindSig · inv mod n, verified as RSASSA-PSS           ◄─ blind signature
 *
 * Why not @cloudflare/blindrsa-ts (what the web client and tests use): its
 * bignum is JavaScript, ~50 ms of CPU per credential on this box (blind
 * 24 ms); this is ~1.5 ms, so thousands of voters can take the real issuance
 * path beside the stack on two cores. `test/chaos.units.test.ts` checks it
 * against ingest's blind signer.
 */
import { constants, createHash, type KeyObject, randomBytes, verify } from 'node:crypto';

const HASH = 'sha384';
const H_LEN = 48;
const SALT_LEN = 48;

export interface BlindKey {
  readonly key: KeyObject;
  readonly n: bigint;
  readonly e: bigint;
  /** Modulus length in bytes. */
  readonly kLen: number;
  readonly modBits: number;
}

export interface Blinded {
  /** The message the credential will carry (its SHA-256 is the ballotId). */
  readonly prepared: Buffer;
  /** What goes to the server. */
  readonly blinded: Buffer;
  readonly inv: bigint;
}

const toBig = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

function toBytes(value: bigint, length: number): Buffer {
  const hex = value.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError('integer too large');
  return Buffer.from(hex, 'hex');
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/** Extended Euclid; throws when `a` has no inverse (gcd ≠ 1: never for a random r in practice). */
function modInverse(a: bigint, mod: bigint): bigint {
  let [r0, r1] = [a % mod, mod];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return ((s0 % mod) + mod) % mod;
}

function mgf1(seed: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let counter = 0, at = 0; at < length; counter++) {
    const c = Buffer.allocUnsafe(4);
    c.writeUInt32BE(counter);
    const block = createHash(HASH).update(seed).update(c).digest();
    at += block.copy(out, at, 0, Math.min(block.length, length - at));
  }
  return out;
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with a fresh random salt. */
export function pssEncode(message: Uint8Array, emBits: number): Buffer {
  const emLen = Math.ceil(emBits / 8);
  const mHash = createHash(HASH).update(message).digest();
  const salt = randomBytes(SALT_LEN);
  const h = createHash(HASH).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - H_LEN - 1);
  db[db.length - SALT_LEN - 1] = 0x01;
  salt.copy(db, db.length - SALT_LEN);
  const mask = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

export function blindKey(publicKey: KeyObject): BlindKey {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.n === undefined || jwk.e === undefined) throw new TypeError('not an RSA key');
  const nBytes = Buffer.from(jwk.n, 'base64url');
  const n = toBig(nBytes);
  return {
    key: publicKey,
    n,
    e: toBig(Buffer.from(jwk.e, 'base64url')),
    kLen: nBytes.length,
    modBits: n.toString(2).length,
  };
}

/** Prepares a fresh random message and blinds it for the district key. */
export function blind(pk: BlindKey): Blinded {
  const prepared = randomBytes(64);
  const m = toBig(pssEncode(prepared, pk.modBits - 1));
  for (;;) {
    const r = toBig(randomBytes(pk.kLen)) % pk.n;
    if (r < 2n) continue;
    let inv: bigint;
    try {
      inv = modInverse(r, pk.n);
    } catch {
      continue;
    }
    const blinded = toBytes((m * modPow(r, pk.e, pk.n)) % pk.n, pk.kLen);
    return { prepared, blinded, inv };
  }
}

/** Unblinds; null when the result is not a valid RSASSA-PSS signature over the prepared message. */
export function finalize(pk: BlindKey, b: Blinded, blindSignature: Uint8Array): Buffer | null {
  if (blindSignature.length !== pk.kLen) return null;
  const signature = toBytes((toBig(blindSignature) * b.inv) % pk.n, pk.kLen);
  const ok = verify(
    HASH,
    b.prepared,
    { key: pk.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT_LEN },
    signature,
  );
  return ok ? signature : null;
}
