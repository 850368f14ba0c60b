/**
 * Pure pieces of ingest, proven without the stack: the server-side blind
 * signature against the RFC 9474 Appendix A vector, a full round trip with an
 * independent client (@cloudflare/blindrsa-ts), ballot ids and receipts,
 * fixed-length cast bodies, the selection rules and the channel rule's refusal codes.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { describe, expect, it } from 'vitest';
import { ballotIdOf, base32, formatReceipt, parseReceipt } from '../common/ballot-id.js';
import { paperCheckInHash } from '../common/records.js';
import { indexElection, loadElection } from '../election/index.js';
import { candidateChanges, checkSelections, compileDistricts } from '../ingest/ballot-rules.js';
import { BlindSignError, blindSign, verifyCredential } from '../ingest/crypto/blind-rsa.js';
import { ERROR_CODES, ERROR_TABLE } from '../ingest/errors.js';
import { CAST_BODY_BYTES, padJson } from '../ingest/http/fixed-length.js';
import { conflictCode } from '../ingest/ledger/ledger.js';
import { RFC9474_PSS_RANDOMIZED as V } from './ingest.rfc9474-vector.js';

const b64u = (b: Uint8Array | bigint): string => {
  if (typeof b !== 'bigint') return Buffer.from(b).toString('base64url');
  let h = b.toString(16);
  if (h.length % 2) h = `0${h}`;
  return Buffer.from(h, 'hex').toString('base64url');
};
const big = (b: Buffer): bigint => BigInt(`0x${b.toString('hex')}`);

function vectorKeys() {
  const p = big(V.p);
  const q = big(V.q);
  const d = big(V.d);
  const n = p * q;
  const modInverse = (a: bigint, m: bigint): bigint => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1 !== 0n) {
      const k = r0 / r1;
      [r0, r1, s0, s1] = [r1, r0 - k * r1, s1, s0 - k * s1];
    }
    return ((s0 % m) + m) % m;
  };
  const jwk = {
    kty: 'RSA',
    n: b64u(n),
    e: 'AQAB',
    d: b64u(d),
    p: b64u(p),
    q: b64u(q),
    dp: b64u(d % (p - 1n)),
    dq: b64u(d % (q - 1n)),
    qi: b64u(modInverse(q, p)),
  };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

describe('blind signing (RFC 9474 RSABSSA-SHA384-PSS-Randomized)', () => {
  it('reproduces the Appendix A blind_sig and accepts its final sig', () => {
    const { privateKey, publicKey } = vectorKeys();
    expect(blindSign(privateKey, publicKey, V.blindedMsg).toString('hex')).toBe(V.blindSig.toString('hex'));
    const prepared = Buffer.concat([V.msgPrefix, V.msg]);
    expect(verifyCredential(publicKey, prepared, V.sig)).toBe(true);
    expect(verifyCredential(publicKey, V.msg, V.sig)).toBe(false);
  });

  it('refuses blinded messages of the wrong length or not below n', () => {
    const { privateKey, publicKey } = vectorKeys();
    expect(() => blindSign(privateKey, publicKey, V.blindedMsg.subarray(1))).toThrow(BlindSignError);
    expect(() => blindSign(privateKey, publicKey, Buffer.alloc(V.blindedMsg.length, 0xff))).toThrow(
      BlindSignError,
    );
  });

  it('round-trips with an independent RFC 9474 client', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const suite = RSABSSA.SHA384.PSS.Randomized();
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const clientKey = await webcrypto.subtle.importKey(
      'spki',
      spki,
      { name: 'RSA-PSS', hash: 'SHA-384' },
      true,
      ['verify'],
    );
    const prepared = suite.prepare(new TextEncoder().encode('a voter credential'));
    const { blindedMsg, inv } = await suite.blind(clientKey, prepared);
    const blindSig = blindSign(privateKey, publicKey, blindedMsg);
    const sig = await suite.finalize(clientKey, prepared, blindSig, inv);
    expect(verifyCredential(publicKey, prepared, sig)).toBe(true);
    // Deterministic: the same blinded message signs to the same bytes (idempotent issuance).
    expect(blindSign(privateKey, publicKey, blindedMsg).equals(blindSig)).toBe(true);
  });
});

describe('ballot ids and receipts', () => {
  it('base32-encodes per RFC 4648', () => {
    expect(base32(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32(Buffer.from('f'))).toBe('MY');
  });

  it('derives a 26-character id, shown in groups of 4–5', () => {
    const id = ballotIdOf(Buffer.from('message'));
    expect(id).toMatch(/^[A-Z2-7]{26}$/);
    const receipt = formatReceipt(id);
    expect(receipt.split('-').map((g) => g.length)).toEqual([5, 5, 4, 4, 4, 4]);
    expect(parseReceipt(receipt.toLowerCase())).toBe(id);
    expect(parseReceipt('not-a-receipt')).toBeNull();
  });
});

describe('fixed-length cast bodies', () => {
  it('pads every success and error body to the same byte length', () => {
    const ok = padJson({ receipt: formatReceipt('A'.repeat(26)), ballotId: 'A'.repeat(26) }, CAST_BODY_BYTES);
    expect(ok.length).toBe(CAST_BODY_BYTES);
    expect(JSON.parse(ok.toString()).ballotId).toBe('A'.repeat(26));
    for (const code of ERROR_CODES) {
      const body = padJson({ error: { code, message: ERROR_TABLE[code].message } }, CAST_BODY_BYTES);
      expect(body.length).toBe(CAST_BODY_BYTES);
      expect(JSON.parse(body.toString()).error.code).toBe(code);
    }
  });
});

describe('selection rules', () => {
  const index = loadElection('sample');
  const plans = compileDistricts(index);
  const district = index.config.districts[0]!;
  const plan = plans.get(district.id)!;
  const race = index.racesOf(district.id)[0]!;
  const active = race.candidates.filter((c) => c.status === 'active').map((c) => c.id);

  it('accepts a valid ballot and canonicalises it', () => {
    const rows = checkSelections(plan, [
      { race: race.id, choices: [...active.slice(0, race.maxChoices)].reverse() },
    ]);
    expect(rows[0]![0]).toBe(race.id);
    expect(rows[0]!.slice(1)).toEqual([...active.slice(0, race.maxChoices)].sort());
  });

  it.each([
    ['an unknown race', [{ race: 'nope', choices: [] }]],
    [
      'a repeated race',
      [
        { race: race.id, choices: [] },
        { race: race.id, choices: [] },
      ],
    ],
    ['an unknown candidate', [{ race: race.id, choices: ['nobody'] }]],
    ['a repeated candidate', [{ race: race.id, choices: [active[0]!, active[0]!] }]],
    ['too many choices', [{ race: race.id, choices: active.slice(0, race.maxChoices + 1) }]],
  ])('refuses %s', (_, selections) => {
    if (selections.some((s) => s.choices.length > active.length)) return;
    expect(() => checkSelections(plan, selections)).toThrow(/./);
  });

  it('follows the commission: removed, withdrawn and reinstated candidates, each refused with its own code', () => {
    const config = new Map(
      index.config.races.flatMap((r) => r.candidates.map((c) => [`${r.id}\0${c.id}`, c.status] as const)),
    );
    expect(candidateChanges(index, config).size).toBe(0);
    const [removed, withdrawn] = active;
    const configWithdrawn = index.config.races
      .flatMap((r) => r.candidates.map((c) => ({ race: r, c })))
      .find(({ race: r, c }) => c.status === 'withdrawn' && plans.get(district.id)!.races.has(r.id));
    const live = new Map(config);
    live.set(`${race.id}\0${removed}`, 'removed');
    live.set(`${race.id}\0${withdrawn}`, 'withdrawn');
    // The sample's first district has a candidate withdrawn in the config (C-NAT-08): reinstate them.
    const back = configWithdrawn!;
    live.set(`${back.race.id}\0${back.c.id}`, 'active');
    const changes = candidateChanges(index, live);
    const pick = (candidate: string) => [{ race: race.id, choices: [candidate] }];
    expect(() => checkSelections(plan, pick(removed!), changes)).toThrow(
      expect.objectContaining({ code: 'candidate_removed' }),
    );
    expect(() => checkSelections(plan, pick(withdrawn!), changes)).toThrow(
      expect.objectContaining({ code: 'candidate_withdrawn' }),
    );
    expect(checkSelections(plan, pick(removed!))[0]).toEqual([race.id, removed]);
    expect(() => checkSelections(plan, pick('nobody'), changes)).toThrow(
      expect.objectContaining({ code: 'invalid_selection' }),
    );
    const again = [{ race: back.race.id, choices: [back.c.id] }];
    expect(() => checkSelections(plan, again)).toThrow(
      expect.objectContaining({ code: 'candidate_withdrawn' }),
    );
    expect(checkSelections(plan, again, changes)[0]).toEqual([back.race.id, back.c.id]);
  });

  it('indexes inline configs too', () => {
    expect(indexElection(index.config).id).toBe(index.id);
  });
});

describe('the channel rule’s refusals (ledger conflictCode)', () => {
  const online = 'ab'.repeat(32);
  const paper = (precinct: string) => paperCheckInHash(precinct);
  it('names the channel that holds the member, by requester and holder', () => {
    expect(conflictCode({ done: 'issued', hash: online }, 'cd'.repeat(32))).toBe('credential_already_issued');
    expect(conflictCode({ done: 'issued', hash: online }, paper('P-10-1'))).toBe('checked_in_on_paper');
    expect(conflictCode({ done: 'issued', hash: paper('P-10-1') }, online)).toBe('already_issued_online');
    expect(conflictCode({ done: 'issued', hash: paper('P-10-1') }, paper('P-10-2'))).toBe(
      'already_checked_in',
    );
    // A record written before issuance kept its blinded hash: online.
    expect(conflictCode({ done: 'issued', hash: paper('P-10-1') }, '')).toBe('already_issued_online');
    expect(conflictCode({ done: 'cast', hash: online }, paper('P-10-1'))).toBe('credential_already_used');
  });
});
