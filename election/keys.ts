/**
 * Key material of an election (DESIGN §3): one RSA key per district for
 * RFC 9474 blind signatures (RSABSSA-SHA384-PSS-Randomized uses ordinary RSA
 * keys, e = 65537), an Ed25519 key for signing result snapshots, an Ed25519
 * key for the dev login's identity tokens, and the 32-byte pepper of `voterHash`.
 *
 * Keys are kept apart by role: each directory holds what one kind of process
 * needs and is deployed only where that process runs, so the results host
 * never holds a credential-signing key and the voting hosts never hold the
 * snapshot key.
 *
 *   <stackDir>/keys/<election>/          0700  the election tools' full set (offline)
 *   ├─ ingest/                           0700  → voting hosts
 *   │  ├─ districts/<districtId>.pem     0600  RSA private key, PKCS#8
 *   │  └─ pepper.bin                     0600  32 random bytes
 *   ├─ publisher/                        0700  → results host
 *   │  └─ snapshot.pem                   0600  Ed25519 private key, PKCS#8
 *   ├─ dev-login/                        0700  → voting hosts with DEV_LOGIN=1 only (never production)
 *   │  └─ identity.pem                   0600  Ed25519 private key, PKCS#8
 *   ├─ precincts/                        0700  → each file to its polling station only; no service reads it
 *   │  └─ <precinctId>.pem               0600  the station key: Ed25519 private key, PKCS#8 (signs protocols)
 *   ├─ operators/                        0700  → each file to its operator only; no service reads it
 *   │  └─ <operatorId>.pem               0600  the operator's key: Ed25519 private key, PKCS#8 (signs election events)
 *   └─ public/                           0755  → every host
 *      ├─ districts/<districtId>.pem     0644  RSA public key, SPKI
 *      ├─ snapshot.pem                   0644  Ed25519 public key, SPKI
 *      ├─ precinct-keys.json             0644  {<precinctId>: {keyId, spki}}: station public keys
 *      │                                       (ingest checks protocols with them, the publisher re-checks)
 *      └─ operator-keys.json             0644  {election, operators: [{id, name, keyId, spki}]}: operators'
 *                                              public keys (every reader of election-events checks with them)
 *
 * `public/` is exported from the private keys by {@link makeKeys} every time
 * it runs, so the two never disagree. Files are written to a temporary name
 * and then linked or renamed into place, so a crash mid-write never leaves a
 * truncated key that looks present.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { chmod, link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ElectionError } from './errors.js';
import type { ElectionIndex } from './load.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The blind-signature suite every district key is for. */
export const BLIND_RSA_ALG = 'RSABSSA-SHA384-PSS-Randomized';
/** DESIGN §3: 2048 bits minimum; production configs use 3072. */
export const MIN_RSA_BITS = 2048;
export const RSA_PUBLIC_EXPONENT = 0x10001;
export const PEPPER_BYTES = 32;

/** The key directories, one per role (see the layout above). */
export const KEY_ROLES = ['ingest', 'publisher', 'dev-login', 'precincts', 'operators', 'public'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

/** A district's blind-signature public key, as every role may hold it. */
export interface DistrictPublicKey {
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, base64url: what the manifest publishes. */
  readonly spki: string;
  readonly bits: number;
}

export interface DistrictKey extends DistrictPublicKey {
  /** PKCS#8 PEM, as ingest's signing workers import it. */
  readonly privateKeyPem: string;
  readonly privateKey: KeyObject;
}

export interface PublicKey {
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, base64url. */
  readonly spki: string;
}

export interface SigningKey extends PublicKey {
  readonly privateKey: KeyObject;
}

/** A polling station's public key: checks the protocols its commission signs. */
export interface StationPublicKey {
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, base64url. */
  readonly spki: string;
  /** {@link stationKeyId}: what a protocol names as the key it is signed with. */
  readonly keyId: string;
}

/** Station public keys by precinct id (`public/precinct-keys.json`). */
export type StationKeys = ReadonlyMap<string, StationPublicKey>;

/** An operator's public key: checks the election events the operator signs. */
export interface OperatorPublicKey extends StationPublicKey {
  readonly name: string;
}

/** Operator public keys by operator id (`public/operator-keys.json`). */
export type OperatorKeys = ReadonlyMap<string, OperatorPublicKey>;

/** Everything: what the election tools (offline) and test drivers hold. */
export interface ElectionKeys {
  readonly electionId: string;
  readonly districts: ReadonlyMap<string, DistrictKey>;
  readonly snapshot: SigningKey;
  /** The dev login's token-signing key (issuer `saylau-dev`). */
  readonly identity: SigningKey;
  /** Key of HMAC-SHA256(pepper, member id) = voterHash; never leaves the stack. */
  readonly pepper: Buffer;
  /** Each paper precinct's station key. */
  readonly stations: ReadonlyMap<string, SigningKey & { readonly keyId: string }>;
  /** Each operator's key (config `operators`). */
  readonly operators: ReadonlyMap<string, SigningKey & { readonly keyId: string }>;
}

/** What ingest holds: district signing keys, the pepper, public keys only otherwise. */
export interface IngestKeys {
  readonly electionId: string;
  readonly districts: ReadonlyMap<string, DistrictKey>;
  /** For the manifest ingest serves; the snapshot's private key stays on the results host. */
  readonly snapshot: PublicKey;
  /** The roll (restored by the ledger after Redis loses it) and the dev login hash member ids with it. */
  readonly pepper: Buffer;
  /** The dev login's signing key: loaded only when the dev login is on, else null. */
  readonly identity: SigningKey | null;
  /** Checks submitted protocols. */
  readonly stations: StationKeys;
}

/** What the results publisher holds: the snapshot key and public keys only. */
export interface PublisherKeys {
  readonly electionId: string;
  readonly districts: ReadonlyMap<string, DistrictPublicKey>;
  readonly snapshot: SigningKey;
  /** Re-checks each protocol's signature before counting it. */
  readonly stations: StationKeys;
}

/** What the manifest publishes; every role's key set has it. */
export interface ManifestKeys {
  readonly districts: ReadonlyMap<string, { readonly spki: string }>;
  readonly snapshot: { readonly spki: string };
}

export interface MakeKeysOptions {
  /** RSA modulus size for district keys. @default 2048 */
  readonly bits?: number;
  /** Replace existing keys (new pepper too: the roll must then be reloaded). @default false */
  readonly force?: boolean;
  /** RSA key generations at once; each takes a libuv thread. @default min(4, cores) */
  readonly concurrency?: number;
  /** Called after each key is made. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface MakeKeysResult {
  /** Keys (and pepper) written by this call; 0 when everything existed. */
  readonly created: number;
  /** Keys kept because they already existed. */
  readonly kept: number;
}

export const keysDir = (stackDir: string, electionId: string): string => join(stackDir, 'keys', electionId);

/** The directory of one role's keys: what to deploy to the hosts that run it. */
export const roleKeysDir = (stackDir: string, electionId: string, role: KeyRole): string =>
  join(keysDir(stackDir, electionId), role);

/** Every key file's place, relative to the election's key directory. */
const FILES = {
  districts: join('ingest', 'districts'),
  pepper: join('ingest', 'pepper.bin'),
  snapshot: join('publisher', 'snapshot.pem'),
  identity: join('dev-login', 'identity.pem'),
  stations: 'precincts',
  publicDistricts: join('public', 'districts'),
  publicSnapshot: join('public', 'snapshot.pem'),
  publicStations: join('public', 'precinct-keys.json'),
  operators: 'operators',
  publicOperators: join('public', 'operator-keys.json'),
  publicIdentity: join('public', 'identity.pem'),
} as const;

/** Before keys were kept apart everything sat in the election's directory: `makeKeys` moves it. */
const LEGACY: readonly (readonly [string, string])[] = [
  ['districts', FILES.districts],
  ['pepper.bin', FILES.pepper],
  ['snapshot.pem', FILES.snapshot],
  ['identity.pem', FILES.identity],
];

/** A station key's id: the first 16 hex digits of SHA-256 of its SPKI DER. */
export function stationKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** The station key file of `precinct` (handed to the station; no service reads it). */
export const stationKeyPath = (stackDir: string, electionId: string, precinct: string): string =>
  join(keysDir(stackDir, electionId), FILES.stations, `${precinct}.pem`);

/** The key file of operator `id` (handed to that operator; no service reads it). */
export const operatorKeyPath = (stackDir: string, electionId: string, id: string): string =>
  join(keysDir(stackDir, electionId), FILES.operators, `${id}.pem`);

/** base64url DER SubjectPublicKeyInfo of a public key. */
export function spkiOf(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
}

/**
 * Makes whatever keys the election lacks, then exports their public halves to
 * `public/`; idempotent. Existing keys are kept unless `force`, because
 * replacing a district key after issuance starts would invalidate every
 * credential already handed out.
 */
export async function makeKeys(
  stackDir: string,
  index: ElectionIndex,
  options: MakeKeysOptions = {},
): Promise<MakeKeysResult> {
  const bits = options.bits ?? MIN_RSA_BITS;
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits % 8 !== 0) {
    throw new RangeError(`RSA key size must be a multiple of 8 and at least ${MIN_RSA_BITS} (got ${bits})`);
  }
  const force = options.force ?? false;
  const dir = keysDir(stackDir, index.id);
  for (const d of [join(stackDir, 'keys'), dir]) await mkdirPrivate(d);
  await moveLegacyKeys(dir);
  for (const d of [
    join(dir, 'ingest'),
    join(dir, FILES.districts),
    join(dir, 'publisher'),
    join(dir, 'dev-login'),
    join(dir, FILES.stations),
    join(dir, FILES.operators),
  ]) {
    await mkdirPrivate(d);
  }

  type Job = { path: string; make: () => Promise<Buffer | string> };
  const jobs: Job[] = [];
  let kept = 0;
  const want = async (path: string, make: Job['make']): Promise<void> => {
    if (!force && (await exists(path))) kept++;
    else jobs.push({ path, make });
  };
  await want(join(dir, FILES.pepper), async () => randomBytes(PEPPER_BYTES));
  await want(join(dir, FILES.snapshot), makeEd25519);
  await want(join(dir, FILES.identity), makeEd25519);
  for (const d of index.config.districts) {
    await want(join(dir, FILES.districts, `${d.id}.pem`), () => makeRsa(bits));
  }
  for (const p of index.config.paperPrecincts)
    await want(join(dir, FILES.stations, `${p.id}.pem`), makeEd25519);
  for (const o of index.config.operators ?? [])
    await want(join(dir, FILES.operators, `${o.id}.pem`), makeEd25519);

  // Key generation runs on libuv's thread pool: a small concurrency keeps
  // the machine usable, and the progress callback shows the slow RSA part.
  const concurrency = Math.max(1, options.concurrency ?? Math.min(4, availableParallelism()));
  let next = 0;
  let done = 0;
  let created = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      if (await writePrivate(job.path, await job.make(), force)) created++;
      else kept++;
      options.onProgress?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  await exportPublicKeys(dir, index, await readKeys(stackDir, index.id));
  return { created, kept };
}

/** Moves keys of the old single-directory layout into their role directories (never overwriting). */
async function moveLegacyKeys(dir: string): Promise<void> {
  for (const [from, to] of LEGACY) {
    if (!(await exists(join(dir, from))) || (await exists(join(dir, to)))) continue;
    await mkdirPrivate(join(dir, to, '..'));
    await rename(join(dir, from), join(dir, to));
  }
}

/** Writes `public/` from the private keys: a stale or missing public key is replaced, an orphan removed. */
async function exportPublicKeys(dir: string, index: ElectionIndex, keys: ElectionKeys): Promise<void> {
  const publicDistricts = join(dir, FILES.publicDistricts);
  for (const d of [join(dir, 'public'), publicDistricts]) await mkdirPublic(d);
  const want = new Map<string, string>([[join(dir, FILES.publicSnapshot), pemOf(keys.snapshot.publicKey)]]);
  // The dev login's token key, for services that check staff tokens without signing any (the publisher's observer feed).
  want.set(join(dir, FILES.publicIdentity), pemOf(keys.identity.publicKey));
  for (const [id, key] of keys.districts) want.set(join(publicDistricts, `${id}.pem`), pemOf(key.publicKey));
  for (const file of await readdir(publicDistricts)) {
    if (file.endsWith('.pem') && !want.has(join(publicDistricts, file)))
      await unlink(join(publicDistricts, file));
  }
  const stations: Record<string, { keyId: string; spki: string }> = {};
  for (const [id, key] of keys.stations) stations[id] = { keyId: key.keyId, spki: key.spki };
  want.set(join(dir, FILES.publicStations), `${JSON.stringify(stations, null, 2)}\n`);
  // The config's operators that have a key: an operator struck from the config signs nothing more.
  const operators = (index.config.operators ?? []).flatMap((o) => {
    const key = keys.operators.get(o.id);
    return key === undefined ? [] : [{ id: o.id, name: o.name, keyId: key.keyId, spki: key.spki }];
  });
  want.set(
    join(dir, FILES.publicOperators),
    `${JSON.stringify({ election: index.id, operators }, null, 2)}\n`,
  );
  for (const [path, pem] of want) {
    if ((await readFile(path, 'utf8').catch(() => null)) === pem) continue;
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, pem, { mode: 0o644 });
    await chmod(tmp, 0o644);
    await rename(tmp, path);
  }
}

const pemOf = (publicKey: KeyObject): string => publicKey.export({ type: 'spki', format: 'pem' }) as string;

async function makeRsa(bits: number): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicExponent: RSA_PUBLIC_EXPONENT,
  });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

async function makeEd25519(): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * Reads every key of an election: for the election tools and test drivers
 * only, never for a service. District keys are all files in
 * `ingest/districts/`; callers compare them with the config ({@link missingDistrictKeys}).
 * @throws ElectionError `keys_missing` or `keys_invalid`
 */
export async function readKeys(stackDir: string, electionId: string): Promise<ElectionKeys> {
  const dir = keysDir(stackDir, electionId);
  return Object.freeze({
    electionId,
    districts: await readDistrictKeys(dir, electionId),
    snapshot: await readSigningKey(join(dir, FILES.snapshot), electionId),
    identity: await readSigningKey(join(dir, FILES.identity), electionId),
    pepper: await readPepperAt(dir, electionId),
    stations: await readStationKeys(dir, electionId),
    operators: await readEd25519Dir(join(dir, FILES.operators), electionId),
  });
}

/**
 * What an ingest process loads: `ingest/` (district keys, pepper), the
 * snapshot *public* key from `public/`, and `dev-login/` only when the dev
 * login is on. Nothing of `publisher/` is read.
 * @throws ElectionError `keys_missing` or `keys_invalid`
 */
export async function readIngestKeys(
  stackDir: string,
  electionId: string,
  options: { readonly devLogin: boolean },
): Promise<IngestKeys> {
  const dir = keysDir(stackDir, electionId);
  return Object.freeze({
    electionId,
    districts: await readDistrictKeys(dir, electionId),
    snapshot: await readPublicKey(join(dir, FILES.publicSnapshot), electionId, 'ed25519'),
    pepper: await readPepperAt(dir, electionId),
    identity: options.devLogin ? await readSigningKey(join(dir, FILES.identity), electionId) : null,
    stations: await readStationPublicKeys(dir, electionId),
  });
}

/**
 * What the results publisher loads: `publisher/snapshot.pem` and the district
 * *public* keys from `public/`. No signing key of a credential, no pepper.
 * @throws ElectionError `keys_missing` or `keys_invalid` (also when
 *   `public/snapshot.pem` is not the public half of the snapshot key: a mixed-up deployment)
 */
export async function readPublisherKeys(stackDir: string, electionId: string): Promise<PublisherKeys> {
  const dir = keysDir(stackDir, electionId);
  const snapshot = await readSigningKey(join(dir, FILES.snapshot), electionId);
  const published = join(dir, FILES.publicSnapshot);
  if (
    (await exists(published)) &&
    (await readPublicKey(published, electionId, 'ed25519')).spki !== snapshot.spki
  ) {
    throw new ElectionError(
      'keys_invalid',
      `${published} is not the public half of ${join(dir, FILES.snapshot)}`,
    );
  }
  const districts = new Map<string, DistrictPublicKey>();
  const publicDistricts = join(dir, FILES.publicDistricts);
  for (const file of await pemFiles(publicDistricts, electionId)) {
    const path = join(publicDistricts, file);
    districts.set(file.slice(0, -4), rsaPublic(await readPublicKey(path, electionId, 'rsa'), path));
  }
  return Object.freeze({
    electionId,
    districts,
    snapshot,
    stations: await readStationPublicKeys(dir, electionId),
  });
}

/** The dev login's public token key (`public/identity.pem`): verifies its tokens, signs none. */
export async function readIdentityPublicKey(stackDir: string, electionId: string): Promise<PublicKey> {
  return readPublicKey(join(keysDir(stackDir, electionId), FILES.publicIdentity), electionId, 'ed25519');
}

/** An Ed25519 private key file (an operator's or a station's, wherever its holder keeps it). */
export function readSigningKeyFile(path: string, electionId: string): Promise<SigningKey> {
  return readSigningKey(path, electionId);
}

/** Just the dev login's key (`dev-login/identity.pem`): what a service that trusts the dev login (DEV_LOGIN=1) verifies with. */
export async function readDevLoginKey(stackDir: string, electionId: string): Promise<SigningKey> {
  return readSigningKey(join(keysDir(stackDir, electionId), FILES.identity), electionId);
}

/** Just the pepper (`ingest/pepper.bin`): what the ingest supervisor's roll restore needs. */
export async function readPepper(stackDir: string, electionId: string): Promise<Buffer> {
  return readPepperAt(keysDir(stackDir, electionId), electionId);
}

/** District ids of the config that have no key in `keys`. */
export function missingDistrictKeys(index: ElectionIndex, keys: ManifestKeys): string[] {
  return index.config.districts.filter((d) => !keys.districts.has(d.id)).map((d) => d.id);
}

async function readPepperAt(dir: string, electionId: string): Promise<Buffer> {
  const path = join(dir, FILES.pepper);
  const pepper = await readKeyFile(path, electionId);
  if (pepper.length !== PEPPER_BYTES) {
    throw new ElectionError('keys_invalid', `${path}: expected ${PEPPER_BYTES} bytes, got ${pepper.length}`);
  }
  return pepper;
}

/** Every station key in `precincts/` (a key set made before stations existed has none). */
function readStationKeys(
  dir: string,
  electionId: string,
): Promise<Map<string, SigningKey & { readonly keyId: string }>> {
  return readEd25519Dir(join(dir, FILES.stations), electionId);
}

/** Every Ed25519 key in `keyDir` by file name, with its key id (a missing directory: none). */
async function readEd25519Dir(
  keyDir: string,
  electionId: string,
): Promise<Map<string, SigningKey & { readonly keyId: string }>> {
  const keys = new Map<string, SigningKey & { readonly keyId: string }>();
  if (!(await exists(keyDir))) return keys;
  for (const file of await pemFiles(keyDir, electionId)) {
    const key = await readSigningKey(join(keyDir, file), electionId);
    keys.set(file.slice(0, -4), Object.freeze({ ...key, keyId: stationKeyId(key.publicKey) }));
  }
  return keys;
}

/**
 * `public/operator-keys.json`: what every reader of `election-events` checks
 * signatures with (ingest, the publisher, the admin service). Each key is
 * checked to be Ed25519 and to match its id.
 * @throws ElectionError `keys_missing` or `keys_invalid`
 */
export async function readOperatorKeys(stackDir: string, electionId: string): Promise<OperatorKeys> {
  const path = join(keysDir(stackDir, electionId), FILES.publicOperators);
  let parsed: { election?: unknown; operators?: unknown };
  try {
    parsed = JSON.parse((await readKeyFile(path, electionId)).toString('utf8'));
  } catch (cause) {
    if (cause instanceof ElectionError) throw cause;
    throw new ElectionError('keys_invalid', `${path}: not JSON`, { cause });
  }
  if (parsed?.election !== electionId || !Array.isArray(parsed.operators)) {
    throw new ElectionError(
      'keys_invalid',
      `${path}: expected {election: "${electionId}", operators: [...]}`,
    );
  }
  const operators = new Map<string, OperatorPublicKey>();
  for (const entry of parsed.operators as {
    id?: unknown;
    name?: unknown;
    keyId?: unknown;
    spki?: unknown;
  }[]) {
    const id = String(entry?.id);
    const key = ed25519PublicEntry(path, id, entry?.spki, entry?.keyId);
    operators.set(id, Object.freeze({ ...key, name: String(entry?.name ?? '') }));
  }
  return operators;
}

/** One entry of a public key list: an Ed25519 SPKI (base64url DER) whose id must be `keyId`. */
function ed25519PublicEntry(path: string, id: string, spki: unknown, keyId: unknown): StationPublicKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(String(spki), 'base64url'), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new ElectionError('keys_invalid', `${path}: ${id}: not a public key`, { cause });
  }
  const expected = stationKeyId(publicKey);
  if (publicKey.asymmetricKeyType !== 'ed25519' || keyId !== expected) {
    throw new ElectionError('keys_invalid', `${path}: ${id}: expected an Ed25519 key with id ${expected}`);
  }
  return Object.freeze({ publicKey, spki: spkiOf(publicKey), keyId: expected });
}

/** `public/precinct-keys.json`; each key checked to be Ed25519 and to match its id. */
async function readStationPublicKeys(dir: string, electionId: string): Promise<StationKeys> {
  const path = join(dir, FILES.publicStations);
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readKeyFile(path, electionId)).toString('utf8'));
  } catch (cause) {
    if (cause instanceof ElectionError) throw cause;
    throw new ElectionError('keys_invalid', `${path}: not JSON`, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ElectionError('keys_invalid', `${path}: expected an object of precinct keys`);
  }
  const stations = new Map<string, StationPublicKey>();
  for (const [precinct, entry] of Object.entries(
    parsed as Record<string, { keyId?: unknown; spki?: unknown }>,
  )) {
    stations.set(precinct, ed25519PublicEntry(path, precinct, entry.spki, entry.keyId));
  }
  return stations;
}

async function readDistrictKeys(dir: string, electionId: string): Promise<Map<string, DistrictKey>> {
  const districts = new Map<string, DistrictKey>();
  for (const file of await pemFiles(join(dir, FILES.districts), electionId)) {
    const path = join(dir, FILES.districts, file);
    districts.set(file.slice(0, -4), districtKey((await readFile(path)).toString('utf8'), path));
  }
  return districts;
}

async function pemFiles(dir: string, electionId: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.pem')).sort();
  } catch (cause) {
    throw new ElectionError(
      'keys_missing',
      `${dir} is missing; run: npm run election -- keys ${electionId}`,
      {
        cause,
      },
    );
  }
}

function districtKey(pem: string, path: string): DistrictKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new ElectionError('keys_invalid', `${path}: not a private key`, { cause });
  }
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({
    ...rsaPublic({ publicKey, spki: spkiOf(publicKey) }, path),
    privateKeyPem: pem,
    privateKey,
  });
}

/** RFC 9474 needs plain RSA keys (not RSA-PSS-restricted ones) of adequate size. */
function rsaPublic(key: PublicKey, path: string): DistrictPublicKey {
  const details = key.publicKey.asymmetricKeyDetails ?? {};
  const bits = details.modulusLength ?? 0;
  if (key.publicKey.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS || details.publicExponent !== 65537n) {
    throw new ElectionError(
      'keys_invalid',
      `${path}: expected an RSA key of at least ${MIN_RSA_BITS} bits with e=65537 (got ${key.publicKey.asymmetricKeyType} ${bits})`,
    );
  }
  return Object.freeze({ publicKey: key.publicKey, spki: key.spki, bits });
}

async function readSigningKey(path: string, electionId: string): Promise<SigningKey> {
  const pem = await readKeyFile(path, electionId);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new ElectionError('keys_invalid', `${path}: not a private key`, { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ElectionError(
      'keys_invalid',
      `${path}: expected an Ed25519 key (got ${privateKey.asymmetricKeyType})`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({ privateKey, publicKey, spki: spkiOf(publicKey) });
}

async function readPublicKey(path: string, electionId: string, type: 'rsa' | 'ed25519'): Promise<PublicKey> {
  const pem = await readKeyFile(path, electionId);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (cause) {
    throw new ElectionError('keys_invalid', `${path}: not a public key`, { cause });
  }
  // createPublicKey also accepts a private key (and derives its public half): a public file must not hold one.
  if (pem.includes('PRIVATE KEY') || publicKey.asymmetricKeyType !== type) {
    throw new ElectionError('keys_invalid', `${path}: expected an ${type} public key`);
  }
  return Object.freeze({ publicKey, spki: spkiOf(publicKey) });
}

async function readKeyFile(path: string, electionId: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new ElectionError(
      'keys_missing',
      `${path} is missing; run: npm run election -- keys ${electionId}`,
      {
        cause,
      },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function mkdirPrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by umask and ignored for directories that exist: set it explicitly.
  await chmod(dir, 0o700);
}

async function mkdirPublic(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
}

/**
 * Writes a private file whole or not at all. Without `replace`, the first
 * writer wins: `link` fails if the file appeared meanwhile (two `init`s
 * racing), and the existing key is kept, so no process can end up holding a
 * pepper or key that was overwritten under it. Returns whether it wrote.
 */
async function writePrivate(path: string, data: Buffer | string, replace: boolean): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await chmod(tmp, 0o600);
  if (replace) {
    await rename(tmp, path);
    return true;
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp);
  }
}
