/**
 * Pre-issued credentials for pure-cast load (stated in every report).
 *
 * A finalized RFC 9474 credential is a random prepared message and an
 * RSASSA-PSS (SHA-384, salt 48) signature over it under the district key:
 * exactly what signing the message directly with the district's private key
 * gives. Signing costs ≈ 1.3 ms of CPU per credential on this machine, so
 * casting 1,000 ballots/s for 5 minutes needs ≈ 400 CPU-seconds of signing:
 * far too much to do during a run on two cores. The credentials are made once
 * per key set (2 processes) and appended to a cache file:
 *
 *   credentials.bin  record i = [u16 district index][64 B message][256 B signature]
 *
 * District of record i is `districts[i % n]`, so any slice spreads over all districts.
 */
import { fork } from 'node:child_process';
import { constants, randomBytes, sign } from 'node:crypto';
import { appendFile, open, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElectionIndex, ElectionKeys } from '../election/index.js';

export const MESSAGE_BYTES = 64;
export const SIGNATURE_BYTES = 256;
export const RECORD_BYTES = 2 + MESSAGE_BYTES + SIGNATURE_BYTES;

export const credentialFile = (keysetDir: string): string => join(keysetDir, 'credentials.bin');

export async function cachedCredentials(keysetDir: string): Promise<number> {
  try {
    return Math.floor((await stat(credentialFile(keysetDir))).size / RECORD_BYTES);
  } catch {
    return 0;
  }
}

/** Signs credentials `[from, from + count)` into a buffer (runs in a child process). */
export function signCredentials(
  index: ElectionIndex,
  keys: ElectionKeys,
  from: number,
  count: number,
): Buffer {
  const districts = index.config.districts;
  const out = Buffer.allocUnsafe(count * RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    const d = (from + i) % districts.length;
    const key = keys.districts.get(districts[d]!.id)!;
    const message = randomBytes(MESSAGE_BYTES);
    const signature = sign('sha384', message, {
      key: key.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 48,
    });
    if (signature.length !== SIGNATURE_BYTES) throw new Error(`expected 2048-bit district keys`);
    const at = i * RECORD_BYTES;
    out.writeUInt16BE(d, at);
    message.copy(out, at + 2);
    signature.copy(out, at + 2 + MESSAGE_BYTES);
  }
  return out;
}

/**
 * Makes sure the cache holds at least `needed` credentials, signing the rest
 * in parallel child processes (`workers/sign-credentials.ts`).
 */
export async function ensureCredentials(
  keysetDir: string,
  electionPath: string,
  electionId: string,
  needed: number,
  log: (line: string) => void,
): Promise<void> {
  const have = await cachedCredentials(keysetDir);
  if (have >= needed) return;
  const missing = needed - have;
  const procs = Math.max(1, availableParallelism());
  const per = Math.ceil(missing / procs);
  log(
    `signing ${missing} credentials once (cache has ${have}) with ${procs} processes — ≈ ${Math.ceil((missing * 1.4) / procs / 1000)} s`,
  );
  const script = fileURLToPath(new URL('./workers/sign-credentials.ts', import.meta.url));
  const parts: string[] = [];
  await Promise.all(
    Array.from({ length: procs }, (_, p) => {
      const from = have + p * per;
      const count = Math.min(per, needed - from);
      if (count <= 0) return Promise.resolve();
      const part = join(keysetDir, `credentials.part${p}`);
      parts[p] = part;
      return new Promise<void>((resolve, reject) => {
        const child = fork(script, [keysetDir, electionPath, electionId, String(from), String(count), part], {
          stdio: 'inherit',
        });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`signer exited ${code}`))));
      });
    }),
  );
  for (const part of parts) {
    if (part === undefined) continue;
    await appendFile(credentialFile(keysetDir), await readFile(part));
    await rm(part);
  }
}

/** Reads `count` records starting at record `first`. */
export async function readCredentials(file: string, first: number, count: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(count * RECORD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, first * RECORD_BYTES);
    if (bytesRead !== buf.length)
      throw new Error(`credential cache too short for [${first}, ${first + count})`);
    return buf;
  } finally {
    await fh.close();
  }
}
