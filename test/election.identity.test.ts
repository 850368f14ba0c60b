/**
 * Identity tokens (DESIGN §3): a valid dev token verifies; tokens from an
 * unknown key, expired ones, other elections' and non-EdDSA ones are all
 * rejected with the `unauthorized` code.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenVerifier,
  type ElectionKeys,
  indexElection,
  issueDevToken,
  listSampleMembers,
  loadElection,
  makeKeys,
  readKeys,
  type TokenVerifier,
  voterHash,
} from '../election/index.js';

const index = indexElection({ ...loadElection('tiny').config, id: 'test-election-identity' });
const member = listSampleMembers(index, 42, 1)[0]!;
let stackDir: string;
let keys: ElectionKeys;
let verify: TokenVerifier;

beforeAll(async () => {
  stackDir = await mkdtemp(join(tmpdir(), 'saylau-identity-'));
  await makeKeys(stackDir, index);
  keys = await readKeys(stackDir, index.id);
  verify = createTokenVerifier([keys.identity.publicKey], index.id);
}, 60_000);

afterAll(async () => {
  await rm(stackDir, { recursive: true, force: true });
});

const otherEd25519 = () => generateKeyPairSync('ed25519');

async function rejection(
  token: string,
  verifier: TokenVerifier = verify,
): Promise<{ code: string; message: string }> {
  try {
    await verifier(token);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('token was accepted');
}

describe('identity tokens', () => {
  it('a valid dev token verifies to the voter hash, district and election', async () => {
    const token = await issueDevToken(keys, index, member.memberId);
    expect(await verify(token)).toEqual({
      voterHash: voterHash(keys.pepper, member.memberId),
      district: member.district,
      election: index.id,
    });
    // The raw member id is nowhere in the token.
    const [, payload] = token.split('.');
    expect(Buffer.from(payload!, 'base64url').toString()).not.toContain(member.memberId);
  });

  it('a token from an unknown key is rejected', async () => {
    const stranger = otherEd25519();
    const forged = await issueDevToken(
      { ...keys, identity: { ...keys.identity, ...stranger } },
      index,
      member.memberId,
    );
    const err = await rejection(forged);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/unknown key/);
  });

  it('an expired token is rejected', async () => {
    const old = await issueDevToken(keys, index, member.memberId, { nowMs: Date.now() - 3_600_000 });
    const err = await rejection(old);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/expired/);
  });

  it('a token for another election is rejected', async () => {
    const elsewhere = createTokenVerifier([keys.identity.publicKey], 'another-election');
    const err = await rejection(await issueDevToken(keys, index, member.memberId), elsewhere);
    expect(err).toMatchObject({ code: 'unauthorized' });
  });

  it('a token with another algorithm is rejected', async () => {
    const hs256 = await new SignJWT({ district: member.district, election: index.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(voterHash(keys.pepper, member.memberId))
      .setExpirationTime('5m')
      .sign(new Uint8Array(32));
    const err = await rejection(hs256);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/algorithm/);
  });

  it('malformed tokens are rejected', async () => {
    for (const junk of ['', 'abc', 'a.b.c', `${Buffer.from('{"alg":"EdDSA"}').toString('base64url')}.e30.`]) {
      expect(await rejection(junk)).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('accepts any configured key, so a real registry can replace the dev one', async () => {
    const registry = otherEd25519();
    const both = createTokenVerifier([keys.identity.publicKey, registry.publicKey], index.id);
    const fromRegistry = await new SignJWT({ district: 'D-75-2', election: index.id })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'registry-2024-1' })
      .setSubject('a'.repeat(64))
      .setIssuer('https://registry.example')
      .setExpirationTime('5m')
      .sign(registry.privateKey);
    expect(await both(fromRegistry)).toEqual({
      voterHash: 'a'.repeat(64),
      district: 'D-75-2',
      election: index.id,
    });
    expect(await both(await issueDevToken(keys, index, member.memberId))).toMatchObject({
      district: member.district,
    });
    expect(await rejection(fromRegistry)).toMatchObject({ code: 'unauthorized' });
  });

  it('refuses to issue a token for someone not on the roll', async () => {
    await expect(issueDevToken(keys, index, '000000000000')).rejects.toMatchObject({
      code: 'unknown_member',
    });
  });
});
