/**
 * Ballot ids and receipts (DESIGN §3).
 *
 *   ballotId = base32(SHA-256(credential message))[0..26]   (RFC 4648 alphabet, 130 bits)
 *   receipt  = ballotId in groups of 5,5,4,4,4,4: "ABCDE-FGHIJ-KLMN-OPQR-STUV-WXYZ"
 *
 * Deterministic per credential, so a replay can only repeat a ballot, never
 * add one; it says nothing about the choices.
 */
import { createHash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const BALLOT_ID_LENGTH = 26;
const GROUPS = [5, 5, 4, 4, 4, 4] as const;
const BALLOT_ID = /^[A-Z2-7]{26}$/;

/** RFC 4648 base32 without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function ballotIdOf(message: Uint8Array): string {
  return base32(createHash('sha256').update(message).digest()).slice(0, BALLOT_ID_LENGTH);
}

export function formatReceipt(ballotId: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const size of GROUPS) {
    parts.push(ballotId.slice(at, at + size));
    at += size;
  }
  return parts.join('-');
}

/** Accepts a ballot id or receipt in any case, with or without separators; null if malformed. */
export function parseReceipt(text: string): string | null {
  const id = text.replace(/[-\s]/g, '').toUpperCase();
  return BALLOT_ID.test(id) ? id : null;
}
