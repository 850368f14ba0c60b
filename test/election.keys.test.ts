/**
 * Election keys and the manifest (DESIGN §3): private material stays private
 * on disk, kept apart by role (each service reads only its own directory),
 * making keys is idempotent, and a district key really works for RFC 9474
 * RSABSSA-SHA384-PSS-Randomized with the client library.
 */
import { createPublicKey } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildManifest,
  type ElectionKeys,
  indexElection,
  keysDir,
  loadElection,
  makeKeys,
  readIngestKeys,
  readKeys,
  readPublisherKeys,
  roleKeysDir,
} from '../election/index.js';

const index = indexElection({ ...loadElection('tiny').config, id: 'test-election-keys' });
let stackDir: string;
let keys: ElectionKeys;

beforeAll(async () => {
  stackDir = await mkdtemp(join(tmpdir(), 'saylau-keys-'));
  await makeKeys(stackDir, index, { concurrency: 2 });
  keys = await readKeys(stackDir, index.id);
}, 60_000);

afterAll(async () => {
  await rm(stackDir, { recursive: true, force: true });
});

describe('election keys', () => {
  it('makes one RSA-2048 key per district, two Ed25519 keys and a 32-byte pepper', () => {
    expect([...keys.districts.keys()].sort()).toEqual(['D-71-1', 'D-75-1', 'D-75-2']);
    for (const k of keys.districts.values()) {
      expect(k.bits).toBe(2048);
      expect(k.publicKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    }
    expect(keys.snapshot.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(keys.identity.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(keys.snapshot.spki).not.toBe(keys.identity.spki);
    expect(keys.pepper).toHaveLength(32);
  });

  it('keeps private material in 0700 role directories and 0600 files, public keys beside them', async () => {
    const dir = keysDir(stackDir, index.id);
    for (const d of ['', 'ingest', 'ingest/districts', 'publisher', 'dev-login']) {
      expect((await stat(join(stackDir, 'keys', index.id, d))).mode & 0o777, d).toBe(0o700);
    }
    expect((await stat(join(stackDir, 'keys'))).mode & 0o777).toBe(0o700);
    for (const f of [
      'ingest/pepper.bin',
      'publisher/snapshot.pem',
      'dev-login/identity.pem',
      'ingest/districts/D-75-1.pem',
    ]) {
      expect((await stat(join(dir, f))).mode & 0o777, f).toBe(0o600);
    }
    for (const f of ['public/snapshot.pem', 'public/districts/D-75-1.pem']) {
      expect((await stat(join(dir, f))).mode & 0o777, f).toBe(0o644);
      expect(await readFile(join(dir, f), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    }
  });

  it('keeps existing keys unless forced', async () => {
    const again = await makeKeys(stackDir, index);
    expect(again).toEqual({ created: 0, kept: 9 }); // tiny.json: 3 districts, 2 station keys, 1 operator key, 2 Ed25519, pepper
    const reread = await readKeys(stackDir, index.id);
    expect(reread.pepper.equals(keys.pepper)).toBe(true);
    expect(reread.districts.get('D-71-1')!.spki).toBe(keys.districts.get('D-71-1')!.spki);
  });

  it('reports missing keys as keys_missing', async () => {
    await expect(readKeys(stackDir, 'no-such-election')).rejects.toMatchObject({ code: 'keys_missing' });
  });

  it('signs blindly with a district key (RSABSSA-SHA384-PSS-Randomized)', async () => {
    const suite = RSABSSA.SHA384.PSS.Randomized();
    const district = keys.districts.get('D-75-1')!;
    const der = Buffer.from(district.spki, 'base64url');
    const params = { name: 'RSA-PSS', hash: 'SHA-384' };
    const publicKey = await crypto.subtle.importKey('spki', der, params, true, ['verify']);
    const pkcs8 = district.privateKey.export({ type: 'pkcs8', format: 'der' });
    const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, params, true, ['sign']);

    const message = suite.prepare(new TextEncoder().encode('credential'));
    const { blindedMsg, inv } = await suite.blind(publicKey, message);
    const blindSig = await suite.blindSign(privateKey, blindedMsg);
    const signature = await suite.finalize(publicKey, message, blindSig, inv);
    expect(await suite.verify(publicKey, signature, message)).toBe(true);
  });
});

describe('keys kept apart', () => {
  /** A stack dir holding only the given role directories of this election: one host's deployment. */
  async function deployed(roles: readonly string[]): Promise<string> {
    const host = await mkdtemp(join(tmpdir(), 'saylau-host-'));
    for (const role of roles) {
      await cp(join(keysDir(stackDir, index.id), role), join(host, 'keys', index.id, role), {
        recursive: true,
      });
    }
    return host;
  }

  it('ingest reads ingest/ and public/ only: district keys and pepper, the snapshot key public', async () => {
    const host = await deployed(['ingest', 'public']);
    try {
      const ingest = await readIngestKeys(host, index.id, { devLogin: false });
      expect([...ingest.districts.keys()]).toEqual([...keys.districts.keys()]);
      expect(ingest.pepper.equals(keys.pepper)).toBe(true);
      expect(ingest.snapshot.spki).toBe(keys.snapshot.spki);
      expect(ingest.snapshot).not.toHaveProperty('privateKey');
      expect(ingest.identity).toBeNull();
      // The dev login's key is read only when the dev login is on, and must then be there.
      await expect(readIngestKeys(host, index.id, { devLogin: true })).rejects.toMatchObject({
        code: 'keys_missing',
      });
      const full = await readIngestKeys(stackDir, index.id, { devLogin: true });
      expect(full.identity?.spki).toBe(keys.identity.spki);
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });

  it('the publisher reads publisher/ and public/ only: the snapshot key, district keys public', async () => {
    const host = await deployed(['publisher', 'public']);
    try {
      const publisher = await readPublisherKeys(host, index.id);
      expect(publisher.snapshot.spki).toBe(keys.snapshot.spki);
      expect(publisher).not.toHaveProperty('pepper');
      for (const [id, key] of publisher.districts) {
        expect(key.spki).toBe(keys.districts.get(id)!.spki);
        expect(key).not.toHaveProperty('privateKey');
      }
      // Both roles build the same manifest as the tools.
      expect(buildManifest(index, publisher)).toEqual(buildManifest(index, keys));
      await expect(readIngestKeys(host, index.id, { devLogin: false })).rejects.toMatchObject({
        code: 'keys_missing',
      });
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });

  it('the publisher refuses a public snapshot key that is not its own (a mixed-up deployment)', async () => {
    const host = await deployed(['publisher', 'public']);
    try {
      const other = join(stackDir, 'keys', index.id, 'dev-login', 'identity.pem');
      const wrong = createPublicKey(await readFile(other));
      await writeFile(
        join(host, 'keys', index.id, 'public', 'snapshot.pem'),
        wrong.export({ type: 'spki', format: 'pem' }),
      );
      await expect(readPublisherKeys(host, index.id)).rejects.toMatchObject({ code: 'keys_invalid' });
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });

  it('moves keys of the old single-directory layout into their roles, keeping every key', async () => {
    const old = await mkdtemp(join(tmpdir(), 'saylau-legacy-'));
    try {
      const dir = join(old, 'keys', index.id);
      await mkdir(dir, { recursive: true });
      const roles = roleKeysDir(stackDir, index.id, 'ingest');
      await cp(join(roles, 'districts'), join(dir, 'districts'), { recursive: true });
      await cp(join(roles, 'pepper.bin'), join(dir, 'pepper.bin'));
      await cp(join(roleKeysDir(stackDir, index.id, 'publisher'), 'snapshot.pem'), join(dir, 'snapshot.pem'));
      await cp(join(roleKeysDir(stackDir, index.id, 'dev-login'), 'identity.pem'), join(dir, 'identity.pem'));
      // The old layout predates station and operator keys: those three are made.
      expect(await makeKeys(old, index)).toEqual({ created: 3, kept: 6 });
      const moved = await readKeys(old, index.id);
      expect(moved.pepper.equals(keys.pepper)).toBe(true);
      expect(moved.snapshot.spki).toBe(keys.snapshot.spki);
      expect(moved.districts.get('D-75-1')!.spki).toBe(keys.districts.get('D-75-1')!.spki);
      expect((await readPublisherKeys(old, index.id)).districts.size).toBe(3);
      await expect(stat(join(dir, 'snapshot.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(old, { recursive: true, force: true });
    }
  });

  it('re-exports public keys that went missing or stale', async () => {
    const pub = roleKeysDir(stackDir, index.id, 'public');
    await rename(join(pub, 'districts', 'D-71-1.pem'), join(pub, 'stale.tmp'));
    await writeFile(join(pub, 'snapshot.pem'), 'garbage');
    await makeKeys(stackDir, index);
    const publisher = await readPublisherKeys(stackDir, index.id);
    expect(publisher.districts.get('D-71-1')!.spki).toBe(keys.districts.get('D-71-1')!.spki);
    await rm(join(pub, 'stale.tmp'));
  });
});

describe('the manifest', () => {
  it('publishes every district key and the snapshot key, nothing private', async () => {
    const manifest = buildManifest(index, keys);
    expect(manifest.id).toBe('test-election-keys');
    expect(manifest.districts.map((d) => [d.id, d.key.alg])).toEqual([
      ['D-71-1', 'RSABSSA-SHA384-PSS-Randomized'],
      ['D-75-1', 'RSABSSA-SHA384-PSS-Randomized'],
      ['D-75-2', 'RSABSSA-SHA384-PSS-Randomized'],
    ]);
    expect(manifest.districts[1]!.key.spki).toBe(keys.districts.get('D-75-1')!.spki);
    expect(manifest.snapshotKey).toEqual({ alg: 'Ed25519', spki: keys.snapshot.spki });
    const text = JSON.stringify(manifest);
    expect(text).not.toContain(keys.identity.spki);
    expect(text).not.toContain('partitions');
    expect(text).not.toContain('PRIVATE');
    const pem = await readFile(
      join(keysDir(stackDir, index.id), 'ingest', 'districts', 'D-75-1.pem'),
      'utf8',
    );
    expect(text).not.toContain(pem.split('\n')[1]!);
    // Pure: the same inputs give the same bytes.
    expect(JSON.stringify(buildManifest(index, keys))).toBe(text);
  });

  it('refuses to publish when a district has no key', () => {
    const bigger = indexElection({
      ...index.config,
      districts: [...index.config.districts, { ...index.config.districts[2]!, id: 'D-75-9' }],
    });
    expect(() => buildManifest(bigger, keys)).toThrow(expect.objectContaining({ code: 'keys_missing' }));
  });
});
