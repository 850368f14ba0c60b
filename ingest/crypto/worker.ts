/**
 * Crypto worker thread (piscina). Holds the district private keys, given once
 * through `workerData`, and runs the RSA operations off the event loop.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { workerData } from 'piscina';
import { BlindSignError, blindSign as signBlinded } from './blind-rsa.js';

/** What the pool hands each worker at start. */
export interface CryptoWorkerData {
  /** [districtId, PKCS#8 PEM private key] pairs. */
  readonly districts: readonly (readonly [string, string])[];
}

export interface BlindSignTask {
  readonly district: string;
  readonly blinded: Uint8Array;
}

/** The one entry point (piscina's default export). */
export default function run(task: BlindSignTask): Uint8Array | null {
  return blindSign(task);
}

interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const keys = new Map<string, KeyPair>();
for (const [district, pem] of (workerData as CryptoWorkerData).districts) {
  const privateKey = createPrivateKey(pem);
  keys.set(district, { privateKey, publicKey: createPublicKey(privateKey) });
}

function keyFor(district: string): KeyPair {
  const pair = keys.get(district);
  if (pair === undefined) throw new Error(`no key for district ${district}`);
  return pair;
}

/**
 * Returns the blind signature, or `null` when the input is out of range (a
 * client error). A failed fault check throws: errors lose their custom fields
 * crossing the thread boundary, so the client-error case is a value instead.
 */
export function blindSign(task: BlindSignTask): Uint8Array | null {
  const pair = keyFor(task.district);
  try {
    return signBlinded(pair.privateKey, pair.publicKey, task.blinded);
  } catch (error) {
    if (error instanceof BlindSignError && error.code === 'SAYLAU_ERR_BLIND_INPUT') return null;
    throw error;
  }
}
