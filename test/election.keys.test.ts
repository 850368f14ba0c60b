/**
 * Election keys and the manifest (DESIGN §3): private material stays private
 * on disk, making keys is idempotent, and a district key really works for
 * RFC 9474 RSABSSA-SHA384-PSS-Randomized with the client library.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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
  readKeys,
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

  it('keeps private material in 0700 directories and 0600 files', async () => {
    const dir = keysDir(stackDir, index.id);
    for (const d of [join(stackDir, 'keys'), dir, join(dir, 'districts')]) {
      expect((await stat(d)).mode & 0o777).toBe(0o700);
    }
    for (const f of ['pepper.bin', 'snapshot.pem', 'identity.pem', 'districts/D-75-1.pem']) {
      expect((await stat(join(dir, f))).mode & 0o777).toBe(0o600);
    }
  });

  it('keeps existing keys unless forced', async () => {
    const again = await makeKeys(stackDir, index);
    expect(again).toEqual({ created: 0, kept: 6 });
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
    const pem = await readFile(join(keysDir(stackDir, index.id), 'districts', 'D-75-1.pem'), 'utf8');
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
