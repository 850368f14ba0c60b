/**
 * Key material of an election (DESIGN §3): one RSA key per district for
 * RFC 9474 blind signatures (RSABSSA-SHA384-PSS-Randomized uses ordinary RSA
 * keys, e = 65537), an Ed25519 key for signing result snapshots, an Ed25519
 * key for dev identity tokens, and the 32-byte pepper of `voterHash`.
 *
 *   <stackDir>/keys/<election>/          0700
 *   ├─ districts/<districtId>.pem        0600  RSA private key, PKCS#8
 *   ├─ snapshot.pem                      0600  Ed25519 private key, PKCS#8
 *   ├─ identity.pem                      0600  Ed25519 private key, PKCS#8
 *   └─ pepper.bin                        0600  32 random bytes
 *
 * Only private keys are stored; public keys are derived from them, so the
 * two can never disagree. Files are written to a temporary name and then
 * linked or renamed into place, so a crash mid-write never leaves a truncated
 * key that looks present.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
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

export interface DistrictKey {
  /** PKCS#8 PEM, as ingest's signing workers import it. */
  readonly privateKeyPem: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, base64url: what the manifest publishes. */
  readonly spki: string;
  readonly bits: number;
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, base64url. */
  readonly spki: string;
}

export interface ElectionKeys {
  readonly electionId: string;
  readonly districts: Map<string, DistrictKey>;
  readonly snapshot: SigningKey;
  readonly identity: SigningKey;
  /** Key of HMAC-SHA256(pepper, member id) = voterHash; never leaves the stack. */
  readonly pepper: Buffer;
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

/** base64url DER SubjectPublicKeyInfo of a public key. */
export function spkiOf(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
}

/**
 * Makes whatever keys the election lacks; idempotent. Existing keys are kept
 * unless `force`, because replacing a district key after issuance starts
 * would invalidate every credential already handed out.
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
  for (const d of [join(stackDir, 'keys'), dir, join(dir, 'districts')]) await mkdirPrivate(d);

  type Job = { path: string; make: () => Promise<Buffer | string> };
  const jobs: Job[] = [];
  let kept = 0;
  const want = async (path: string, make: Job['make']): Promise<void> => {
    if (!force && (await exists(path))) kept++;
    else jobs.push({ path, make });
  };
  await want(join(dir, 'pepper.bin'), async () => randomBytes(PEPPER_BYTES));
  await want(join(dir, 'snapshot.pem'), makeEd25519);
  await want(join(dir, 'identity.pem'), makeEd25519);
  for (const d of index.config.districts) {
    await want(join(dir, 'districts', `${d.id}.pem`), () => makeRsa(bits));
  }

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
  return { created, kept };
}

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
 * Reads every key of an election. District keys are all files in
 * `districts/`; callers compare them with the config ({@link missingDistrictKeys}).
 * @throws ElectionError `keys_missing` or `keys_invalid`
 */
export async function readKeys(stackDir: string, electionId: string): Promise<ElectionKeys> {
  const dir = keysDir(stackDir, electionId);
  const pepper = await readPrivate(join(dir, 'pepper.bin'), electionId);
  if (pepper.length !== PEPPER_BYTES) {
    throw new ElectionError(
      'keys_invalid',
      `${join(dir, 'pepper.bin')}: expected ${PEPPER_BYTES} bytes, got ${pepper.length}`,
    );
  }
  const snapshot = signingKey(
    await readPrivate(join(dir, 'snapshot.pem'), electionId),
    join(dir, 'snapshot.pem'),
  );
  const identity = signingKey(
    await readPrivate(join(dir, 'identity.pem'), electionId),
    join(dir, 'identity.pem'),
  );
  const districts = new Map<string, DistrictKey>();
  let files: string[];
  try {
    files = (await readdir(join(dir, 'districts'))).filter((f) => f.endsWith('.pem')).sort();
  } catch (cause) {
    throw new ElectionError(
      'keys_missing',
      `no district keys for "${electionId}"; run: npm run election -- keys`,
      {
        cause,
      },
    );
  }
  for (const file of files) {
    const path = join(dir, 'districts', file);
    districts.set(file.slice(0, -4), districtKey((await readFile(path)).toString('utf8'), path));
  }
  return Object.freeze({ electionId, districts, snapshot, identity, pepper });
}

/** District ids of the config that have no key in `keys`. */
export function missingDistrictKeys(index: ElectionIndex, keys: ElectionKeys): string[] {
  return index.config.districts.filter((d) => !keys.districts.has(d.id)).map((d) => d.id);
}

function districtKey(pem: string, path: string): DistrictKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new ElectionError('keys_invalid', `${path}: not a private key`, { cause });
  }
  const details = privateKey.asymmetricKeyDetails ?? {};
  const bits = details.modulusLength ?? 0;
  // RFC 9474 needs plain RSA keys (not RSA-PSS-restricted ones) of adequate size.
  if (privateKey.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS || details.publicExponent !== 65537n) {
    throw new ElectionError(
      'keys_invalid',
      `${path}: expected an RSA key of at least ${MIN_RSA_BITS} bits with e=65537 (got ${privateKey.asymmetricKeyType} ${bits})`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({ privateKeyPem: pem, privateKey, publicKey, spki: spkiOf(publicKey), bits });
}

function signingKey(pem: Buffer, path: string): SigningKey {
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

async function readPrivate(path: string, electionId: string): Promise<Buffer> {
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
