/**
 * Identity tokens (DESIGN §3): a token verifies only against the keys of the
 * issuer its `iss` names, for this election (`aud`), unexpired and not older
 * than the maximum age; each of those refusals has its own code. A registry's
 * keys come from a JWKS file or URL.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStaffTokenVerifier,
  createTokenVerifier,
  DEV_ISSUER,
  type ElectionKeys,
  indexElection,
  issueDevStaffToken,
  issueDevToken,
  issuerFromJwks,
  issuerWithKeys,
  jwksOf,
  listSampleMembers,
  loadElection,
  makeKeys,
  readKeys,
  staffRosterOf,
  type TokenVerifier,
  voterHash,
} from '../election/index.js';

const index = indexElection({ ...loadElection('tiny').config, id: 'test-election-identity' });
const member = listSampleMembers(index, 42, 1)[0]!;
const REGISTRY = 'https://registry.example';
const MAX_AGE_SEC = 600;
let stackDir: string;
let keys: ElectionKeys;
/** The demo's verifier: the dev issuer only. */
let dev: TokenVerifier;
const registry = generateKeyPairSync('ed25519');

beforeAll(async () => {
  stackDir = await mkdtemp(join(tmpdir(), 'saylau-identity-'));
  await makeKeys(stackDir, index);
  keys = await readKeys(stackDir, index.id);
  dev = createTokenVerifier({
    issuers: [await issuerWithKeys(DEV_ISSUER, [keys.identity.publicKey])],
    audience: index.id,
    maxAgeSec: MAX_AGE_SEC,
  });
}, 60_000);

afterAll(async () => {
  await rm(stackDir, { recursive: true, force: true });
});

async function rejection(
  token: string,
  verifier: TokenVerifier = dev,
): Promise<{ code: string; message: string }> {
  try {
    await verifier(token);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('token was accepted');
}

/** A token as a member registry would issue it. */
function registryToken(
  options: {
    aud?: string;
    iss?: string;
    iatSec?: number;
    ttlSec?: number;
    kid?: string;
    key?: KeyObject;
  } = {},
): Promise<string> {
  const iat = options.iatSec ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ district: 'D-75-2' })
    .setProtectedHeader({ alg: 'EdDSA', ...(options.kid === undefined ? {} : { kid: options.kid }) })
    .setSubject('a'.repeat(64))
    .setIssuer(options.iss ?? REGISTRY)
    .setAudience(options.aud ?? index.id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSec ?? 300))
    .sign(options.key ?? registry.privateKey);
}

describe('identity tokens', () => {
  it('a valid dev token verifies to the voter hash, district and election', async () => {
    const token = await issueDevToken(keys, index, member.memberId);
    expect(await dev(token)).toEqual({
      voterHash: voterHash(keys.pepper, member.memberId),
      district: member.district,
      election: index.id,
    });
    // The raw member id is nowhere in the token.
    const [, payload] = token.split('.');
    expect(Buffer.from(payload!, 'base64url').toString()).not.toContain(member.memberId);
  });

  it('a token from an unknown key is rejected', async () => {
    const stranger = generateKeyPairSync('ed25519');
    const forged = await issueDevToken(
      { ...keys, identity: { ...keys.identity, ...stranger } },
      index,
      member.memberId,
    );
    const err = await rejection(forged);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/unknown key/);
  });

  it('an expired token is token_expired', async () => {
    const old = await issueDevToken(keys, index, member.memberId, { nowMs: Date.now() - 700_000 });
    const err = await rejection(old);
    expect(err.code).toBe('token_expired');
    expect(err.message).toMatch(/expired/);
  });

  it('a token issued longer ago than the maximum age is token_too_old, however long its exp', async () => {
    const hoarded = await issueDevToken(keys, index, member.memberId, {
      nowMs: Date.now() - (MAX_AGE_SEC + 60) * 1000,
      ttlSec: 86_400,
    });
    expect(await rejection(hoarded)).toMatchObject({ code: 'token_too_old' });
    const recent = await issueDevToken(keys, index, member.memberId, {
      nowMs: Date.now() - (MAX_AGE_SEC - 60) * 1000,
      ttlSec: 86_400,
    });
    expect(await dev(recent)).toMatchObject({ district: member.district });
  });

  it('a token for another election is token_wrong_audience', async () => {
    const elsewhere = createTokenVerifier({
      issuers: [await issuerWithKeys(DEV_ISSUER, [keys.identity.publicKey])],
      audience: 'another-election',
      maxAgeSec: MAX_AGE_SEC,
    });
    const err = await rejection(await issueDevToken(keys, index, member.memberId), elsewhere);
    expect(err).toMatchObject({ code: 'token_wrong_audience' });
  });

  it('a token of an issuer not configured is token_wrong_issuer, even when signed by a trusted key', async () => {
    expect(await rejection(await registryToken())).toMatchObject({ code: 'token_wrong_issuer' });
    // The dev key cannot speak for another issuer: each issuer is trusted for its own iss only.
    const production = createTokenVerifier({
      issuers: [await issuerWithKeys(REGISTRY, [registry.publicKey])],
      audience: index.id,
      maxAgeSec: MAX_AGE_SEC,
    });
    expect(await rejection(await issueDevToken(keys, index, member.memberId), production)).toMatchObject({
      code: 'token_wrong_issuer',
    });
    const devKeyAsRegistry = await registryToken({ key: keys.identity.privateKey });
    expect(await rejection(devKeyAsRegistry, production)).toMatchObject({ code: 'unauthorized' });
  });

  it('a token with another algorithm is rejected', async () => {
    const hs256 = await new SignJWT({ district: member.district })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(voterHash(keys.pepper, member.memberId))
      .setIssuer(DEV_ISSUER)
      .setAudience(index.id)
      .setIssuedAt()
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

  it('refuses to issue a token for someone not on the roll', async () => {
    await expect(issueDevToken(keys, index, '000000000000')).rejects.toMatchObject({
      code: 'unknown_member',
    });
  });
});

describe("a member registry's keys from configuration", () => {
  let dir: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'saylau-jwks-'));
    const jwks = { keys: [{ ...(await exportJWK(registry.publicKey)), kid: 'registry-2024-1' }] };
    await writeFile(join(dir, 'jwks.json'), JSON.stringify(jwks));
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const verifierOf = async (source: string) =>
    createTokenVerifier({
      issuers: [await issuerFromJwks(REGISTRY, source)],
      audience: index.id,
      maxAgeSec: MAX_AGE_SEC,
    });

  it('verifies with a JWKS file and with a JWKS URL fetched at start', async () => {
    for (const verify of [await verifierOf(join(dir, 'jwks.json')), await verifierOf(url)]) {
      expect(await verify(await registryToken({ kid: 'registry-2024-1' }))).toEqual({
        voterHash: 'a'.repeat(64),
        district: 'D-75-2',
        election: index.id,
      });
      expect(
        await rejection(await registryToken({ kid: 'registry-2024-1', aud: 'x' }), verify),
      ).toMatchObject({
        code: 'token_wrong_audience',
      });
      const stranger = generateKeyPairSync('ed25519').privateKey;
      expect(await rejection(await registryToken({ kid: 'other', key: stranger }), verify)).toMatchObject({
        code: 'unauthorized',
      });
    }
  });

  it('tries every key of a JWKS whose keys have no kid', async () => {
    const other = generateKeyPairSync('ed25519');
    const jwks = await jwksOf([other.publicKey, registry.publicKey]);
    for (const key of jwks.keys) delete key.kid;
    await writeFile(join(dir, 'nokid.json'), JSON.stringify(jwks));
    const verify = await verifierOf(join(dir, 'nokid.json'));
    expect(await verify(await registryToken())).toMatchObject({ district: 'D-75-2' });
    const stranger = generateKeyPairSync('ed25519').privateKey;
    expect(await rejection(await registryToken({ key: stranger }), verify)).toMatchObject({
      code: 'unauthorized',
    });
  });

  it('a JWKS that cannot be read or fetched stops the start: issuer_keys_invalid', async () => {
    await writeFile(join(dir, 'bad.json'), '{"not":"a key set"}');
    for (const source of [join(dir, 'bad.json'), join(dir, 'missing.json'), 'http://127.0.0.1:1/jwks.json']) {
      await expect(issuerFromJwks(REGISTRY, source)).rejects.toMatchObject({ code: 'issuer_keys_invalid' });
    }
  });
});

describe('staff roles of the commission (issue 16)', () => {
  it('operator and committee tokens must name an id of the config; observers any; voters none', async () => {
    const staff = createStaffTokenVerifier({
      issuers: [await issuerWithKeys(DEV_ISSUER, [keys.identity.publicKey])],
      audience: index.id,
      maxAgeSec: MAX_AGE_SEC,
      ...staffRosterOf(index),
    });
    const token = (role: 'operator' | 'committee' | 'observer', id: string) =>
      issueDevStaffToken(keys, index, { role, id });
    expect(await staff(await token('operator', 'OP-1'))).toEqual({
      role: 'operator',
      id: 'OP-1',
      precinct: null,
    });
    expect(await staff(await token('committee', 'CC-1'))).toEqual({
      role: 'committee',
      id: 'CC-1',
      precinct: null,
    });
    expect(await staff(await token('observer', 'anyone'))).toMatchObject({ role: 'observer', id: 'anyone' });
    // An operator's id is not a committee member's, and an id the config lacks is no operator.
    expect(await rejectionOf(staff, await token('committee', 'OP-1'))).toBe('token_wrong_role');
    expect(await rejectionOf(staff, await token('operator', 'OP-9'))).toBe('token_wrong_role');
    expect(await rejectionOf(staff, await issueDevToken(keys, index, member.memberId))).toBe(
      'token_wrong_role',
    );
  });
});

async function rejectionOf(verify: (token: string) => Promise<unknown>, token: string): Promise<string> {
  try {
    await verify(token);
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'accepted';
}
