/**
 * Keys kept apart (issue 14), through the real services, each given only the
 * key directories its host would be given:
 *
 * - the results publisher runs as an unprivileged user (`nobody`) with a
 *   stack dir that holds `publisher/` and `public/` only, cannot read any
 *   signing key of the election, and still publishes a signed snapshot;
 * - ingest runs without the snapshot key (and, in production config, without
 *   the dev login's key), and serves the manifest with the snapshot public key;
 * - in production config (DEV_LOGIN off) ingest trusts the registry's JWKS
 *   only: a dev token is refused, and a wrong issuer, wrong audience, too old
 *   or expired token each get their own error code;
 * - production config with no issuer, or a registry claiming the dev issuer, does not start.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import {
  DEV_ISSUER,
  type ElectionIndex,
  type ElectionKeys,
  issueDevToken,
  keysDir,
  listSampleMembers,
  readKeys,
  voterHash,
} from '../election/index.js';
import { publicKeyFromSpki, verifySnapshotSignature } from '../publisher/signer.js';
import { api, forgetElection, prepareElection, startIngest, VoterClient } from './ingest.harness.js';
import { testPort } from './support/ports.js';
import { config } from './support/stack.js';

const INGEST_PORT = testPort(18_531);
const PUBLISHER_PORT = testPort(18_532);
const ELECTION = `keys-apart-${Date.now().toString(36)}`;
const REGISTRY = 'https://registry.example/kz';
const NOBODY = 65_534;

let index: ElectionIndex;
let electionPath: string;
let keys: ElectionKeys;
const hosts: string[] = [];

beforeAll(async () => {
  ({ index, path: electionPath } = await prepareElection(ELECTION, 2_000));
  keys = await readKeys(config.stackDir, index.id);
}, 300_000);

afterAll(async () => {
  for (const host of hosts) await rm(host, { recursive: true, force: true });
  await forgetElection(config, ELECTION);
});

/**
 * A host's stack dir: only the named role directories of the election's keys
 * (plus `log-start.json`, where the election's records begin in Kafka: not a key).
 */
async function host(roles: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'saylau-host-'));
  hosts.push(dir);
  const from = keysDir(config.stackDir, index.id);
  const to = join(dir, 'keys', index.id);
  await mkdir(to, { recursive: true });
  for (const role of roles) await cp(join(from, role), join(to, role), { recursive: true });
  await cp(join(from, 'log-start.json'), join(to, 'log-start.json'));
  return dir;
}

describe('the results publisher', () => {
  it('runs as nobody with only the snapshot key, cannot read any signing key, and publishes a signed snapshot', async () => {
    const dir = await host(['publisher', 'public']);
    const publicDir = join(dir, 'site');
    await mkdir(publicDir);
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);

    // As the publisher's user: every signing key of the full set is out of reach, its own key is not.
    const full = keysDir(config.stackDir, index.id);
    const signing = [
      ...(await readdir(join(full, 'ingest', 'districts'))).map((f) => join(full, 'ingest', 'districts', f)),
      join(full, 'ingest', 'pepper.bin'),
      join(full, 'dev-login', 'identity.pem'),
      join(full, 'publisher', 'snapshot.pem'),
    ];
    const probe = (path: string): string =>
      spawnSync(
        process.execPath,
        [
          '-e',
          'try{require("fs").readFileSync(process.argv[1]);console.log("read")}catch(e){console.log(e.code)}',
          path,
        ],
        { uid: NOBODY, gid: NOBODY, encoding: 'utf8' },
      ).stdout.trim();
    for (const path of signing) expect(probe(path), path).toBe('EACCES');
    expect(probe(join(dir, 'keys', index.id, 'publisher', 'snapshot.pem'))).toBe('read');
    expect(existsSync(join(dir, 'keys', index.id, 'ingest'))).toBe(false);
    expect(existsSync(join(dir, 'keys', index.id, 'dev-login'))).toBe(false);

    const publisher = spawn(process.execPath, ['--import', 'tsx', 'publisher/main.ts'], {
      cwd: repoRoot,
      uid: NOBODY,
      gid: NOBODY,
      env: {
        ...process.env,
        HOME: dir,
        STACK_DIR: dir,
        ELECTION: electionPath,
        PUBLIC_DIR: publicDir,
        PUBLISHER_PORT: String(PUBLISHER_PORT),
        SNAPSHOT_INTERVAL: '2',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    publisher.stdout?.on('data', (d) => {
      output += d;
    });
    publisher.stderr?.on('data', (d) => {
      output += d;
    });
    try {
      const latest = join(publicDir, 'latest.json');
      await expect
        .poll(() => existsSync(latest) || publisher.exitCode !== null, { timeout: 150_000, interval: 1_000 })
        .toBe(true);
      expect(publisher.exitCode, output).toBeNull();
      const snapshot = JSON.parse(await readFile(latest, 'utf8'));
      expect(snapshot.election.id).toBe(index.id);
      expect(verifySnapshotSignature(snapshot, publicKeyFromSpki(keys.snapshot.spki))).toBe(true);
      // The manifest it wrote carries the district public keys, taken from public/.
      const manifest = JSON.parse(await readFile(join(publicDir, 'elections', `${index.id}.json`), 'utf8'));
      expect(manifest.districts.map((d: { key: { spki: string } }) => d.key.spki)).toEqual(
        index.config.districts.map((d) => keys.districts.get(d.id)!.spki),
      );
      expect(manifest.snapshotKey.spki).toBe(keys.snapshot.spki);
    } catch (error) {
      throw new Error(`${String(error)}\npublisher output:\n${output.slice(-3000)}`);
    } finally {
      publisher.kill('SIGTERM');
    }
  }, 240_000);
});

describe('ingest in production config (DEV_LOGIN off, a registry JWKS)', () => {
  const registry = generateKeyPairSync('ed25519');
  let ingest: Awaited<ReturnType<typeof startIngest>>;
  let client: VoterClient;
  let jwksPath: string;

  beforeAll(async () => {
    // The voting host: ingest/ and public/, neither the snapshot key nor the dev login's key.
    const dir = await host(['ingest', 'public']);
    jwksPath = join(dir, 'registry-jwks.json');
    const jwk = { ...(await exportJWK(registry.publicKey)), kid: 'kz-registry-1', alg: 'EdDSA', use: 'sig' };
    await writeFile(jwksPath, JSON.stringify({ keys: [jwk] }));
    ingest = await startIngest({
      election: electionPath,
      port: INGEST_PORT,
      processes: 1,
      env: { STACK_DIR: dir, DEV_LOGIN: '0', IDENTITY_JWKS: jwksPath, IDENTITY_ISSUER: REGISTRY },
    });
    client = new VoterClient(ingest.base, index.id);
  }, 120_000);

  afterAll(async () => {
    await ingest?.stop();
  });

  /** A registry token; the roll's voterHash is the registry's business (it shares the pepper). */
  async function registryToken(
    memberId: string,
    o: {
      iss?: string;
      aud?: string;
      iatSec?: number;
      ttlSec?: number;
      key?: typeof registry.privateKey;
    } = {},
  ): Promise<string> {
    const m = listSampleMembers(index, 0, 200).find((x) => x.memberId === memberId)!;
    const iat = o.iatSec ?? Math.floor(Date.now() / 1000);
    return new SignJWT({ district: m.district })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'kz-registry-1' })
      .setSubject(voterHash(keys.pepper, memberId))
      .setIssuer(o.iss ?? REGISTRY)
      .setAudience(o.aud ?? index.id)
      .setIssuedAt(iat)
      .setExpirationTime(iat + (o.ttlSec ?? 300))
      .sign(o.key ?? registry.privateKey);
  }

  async function issue(token: string, district: string) {
    const key = await client.districtKey(district);
    const { blindedMsg } = await client.blind(key);
    return api(
      ingest.base,
      'POST',
      '/v1/credentials',
      { election: index.id, blindedMessage: Buffer.from(blindedMsg).toString('base64url') },
      { authorization: `Bearer ${token}` },
    );
  }

  it('serves the manifest with the snapshot public key, holding no snapshot key', async () => {
    const manifest = await api(ingest.base, 'GET', `/v1/elections/${index.id}`);
    expect(manifest.status).toBe(200);
    expect(manifest.body.snapshotKey.spki).toBe(keys.snapshot.spki);
    expect(
      (await api(ingest.base, 'POST', '/v1/dev/login', { election: index.id, memberId: 'x' })).status,
    ).toBe(404);
  });

  it('issues a credential for a registry token', async () => {
    const [m] = listSampleMembers(index, 10, 1);
    const res = await issue(await registryToken(m!.memberId), m!.district);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.district).toBe(m!.district);
  });

  it('refuses a dev token (token_wrong_issuer), and wrong aud, too old, expired and forged tokens, each with its code', async () => {
    const members = listSampleMembers(index, 20, 6);
    const now = Math.floor(Date.now() / 1000);
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const cases: [string, Promise<string>, string][] = [
      ['dev token', issueDevToken(keys, index, members[0]!.memberId), 'token_wrong_issuer'],
      [
        'wrong iss',
        registryToken(members[1]!.memberId, { iss: 'https://elsewhere.example' }),
        'token_wrong_issuer',
      ],
      ['wrong aud', registryToken(members[2]!.memberId, { aud: 'another-election' }), 'token_wrong_audience'],
      [
        'too old',
        registryToken(members[3]!.memberId, { iatSec: now - 3_600, ttlSec: 7_200 }),
        'token_too_old',
      ],
      ['expired', registryToken(members[4]!.memberId, { iatSec: now - 400, ttlSec: 300 }), 'token_expired'],
      ['forged', registryToken(members[5]!.memberId, { key: stranger }), 'unauthorized'],
    ];
    for (const [what, token, code] of cases) {
      const res = await issue(await token, members[0]!.district);
      expect([what, res.status, res.body.error?.code]).toEqual([what, 401, code]);
    }
  });

  it('does not start without an issuer, nor with a registry named like the dev issuer', async () => {
    const env = { STACK_DIR: hosts.at(-1)!, DEV_LOGIN: '0' };
    /** How a start ends: the error, or "started" (then stopped again). */
    const startWith = async (extra: Record<string, string>, entry: 'main.ts' | 'server.ts' = 'server.ts') => {
      try {
        const started = await startIngest({
          entry,
          election: electionPath,
          port: testPort(18_533),
          env: { ...env, ...extra },
        });
        await started.stop();
        return 'started';
      } catch (error) {
        return String(error);
      }
    };
    expect(await startWith({})).toMatch(/IDENTITY_JWKS: ingest trusts no identity issuer/);
    // The supervisor stops at once rather than restart workers that cannot start.
    expect(await startWith({}, 'main.ts')).toMatch(
      /exited during start(.|\n)*IDENTITY_JWKS: ingest trusts no/,
    );
    expect(await startWith({ IDENTITY_JWKS: jwksPath, IDENTITY_ISSUER: DEV_ISSUER })).toMatch(
      /IDENTITY_ISSUER: .*saylau-dev.* is the dev login's issuer/,
    );
  }, 120_000);
});
