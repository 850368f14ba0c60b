/**
 * Crypto worker thread (piscina). Holds the district private keys, given once
 * through `workerData`, and runs the RSA operations off the event loop.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { workerData } from 'piscina';
import { BlindSignError, blindSign as signBlinded, verifyCredential } from './blind-rsa.js';

/** What the pool hands each worker at start. */
export interface CryptoWorkerData {
  /** [districtId, PKCS#8 PEM private key] pairs. */
  readonly districts: readonly (readonly [string, string])[];
}

export interface BlindSignTask {
  readonly op: 'blindSign';
  readonly district: string;
  readonly blinded: Uint8Array;
}

export interface VerifyTask {
  readonly op: 'verify';
  readonly district: string;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * The one entry point. Piscina's named tasks (`run(task, {name})`) fail to
 * load `.ts` workers under tsx (the module is loaded before the loader is
 * registered in the thread), so tasks carry their operation instead.
 */
export default function run(task: BlindSignTask | VerifyTask): Uint8Array | boolean | null {
  return task.op === 'blindSign' ? blindSign(task) : verify(task);
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

export function verify(task: VerifyTask): boolean {
  return verifyCredential(keyFor(task.district).publicKey, task.message, task.signature);
}
