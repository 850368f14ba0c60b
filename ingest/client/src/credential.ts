/**
 * The voter's side of RFC 9474 (RSABSSA-SHA384-PSS-Randomized) with the same
 * library the tests use, @cloudflare/blindrsa-ts, on WebCrypto. Loaded only
 * after sign-in: it is most of the page's weight (sjcl big integers).
 *
 *   prepare(32 random bytes) ─► blind(pk) ─► [POST /v1/credentials] ─► finalize(pk, blindSig, inv)
 */
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { fromB64u, toB64u } from './bytes.js';

const suite = RSABSSA.SHA384.PSS.Randomized();

function importKey(spki: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('spki', fromB64u(spki), { name: 'RSA-PSS', hash: 'SHA-384' }, true, [
    'verify',
  ]);
}

/** A fresh prepared message, blinded for the district key; all base64url. */
export async function blind(spki: string): Promise<{ prepared: string; blinded: string; inv: string }> {
  const key = await importKey(spki);
  const prepared = suite.prepare(crypto.getRandomValues(new Uint8Array(32)));
  const { blindedMsg, inv } = await suite.blind(key, prepared);
  return { prepared: toB64u(prepared), blinded: toB64u(blindedMsg), inv: toB64u(inv) };
}

/** Unblinds and verifies the signature (finalize throws on a bad one). */
export async function finalize(
  spki: string,
  prepared: string,
  blindSig: string,
  inv: string,
): Promise<string> {
  const key = await importKey(spki);
  const signature = await suite.finalize(key, fromB64u(prepared), fromB64u(blindSig), fromB64u(inv));
  return toB64u(signature);
}
