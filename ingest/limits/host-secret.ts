/**
 * The host secret: 32 random bytes the supervisor makes at start and hands to
 * its workers, held only in process memory and never written anywhere (a
 * restart makes a new one). Keys that the abuse limits and the signature
 * cache put in Redis are HMACs under it, and cached signatures are sealed with
 * it, so Redis alone — its memory, a dump, a replica — names no voter, no
 * address and no signature: an insider needs the running processes' memory.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** A worker's request for the secret, and the supervisor's answer, on the fork's IPC channel. */
export const HOST_SECRET_REQUEST = 'host-secret?';
export const HOST_SECRET_ANSWER = 'host-secret';

/** The supervisor's answer to a {@link HOST_SECRET_REQUEST}. */
export interface HostSecretAnswer {
  readonly type: typeof HOST_SECRET_ANSWER;
  readonly secret: string;
}

const isAnswer = (message: unknown): message is HostSecretAnswer =>
  typeof message === 'object' &&
  message !== null &&
  (message as { type?: unknown }).type === HOST_SECRET_ANSWER &&
  typeof (message as { secret?: unknown }).secret === 'string';

/**
 * Asks the supervisor for the host secret over the IPC channel. Never through
 * the environment: Linux keeps a process's start-up environment readable in
 * /proc/<pid>/environ (`ps eww`) for its whole life, whatever it deletes.
 */
export function requestHostSecret(channel: NodeJS.Process): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!isAnswer(message)) return;
      channel.off('message', onMessage);
      resolve(message.secret);
    };
    channel.on('message', onMessage);
    channel.send?.({ type: HOST_SECRET_REQUEST }, (err: Error | null) => {
      if (err === null) return;
      channel.off('message', onMessage);
      reject(err);
    });
  });
}

export function newHostSecret(): string {
  return randomBytes(32).toString('base64url');
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class HostSecret {
  readonly #mac: Buffer;
  readonly #seal: Buffer;

  /** `encoded` from the supervisor; absent when this process runs alone (it makes its own). */
  constructor(encoded: string | undefined) {
    const secret = encoded === undefined ? randomBytes(32) : Buffer.from(encoded, 'base64url');
    if (secret.length !== 32) throw new RangeError('the host secret must be 32 bytes');
    // Separate keys for naming and sealing, so neither use can help attack the other.
    this.#mac = Buffer.from(hkdfSync('sha256', secret, '', 'saylau ingest key names', 32));
    this.#seal = Buffer.from(hkdfSync('sha256', secret, '', 'saylau ingest sealed values', 32));
  }

  /** An opaque, fixed-length Redis key part for `parts` (joined unambiguously). */
  name(...parts: readonly string[]): string {
    const mac = createHmac('sha256', this.#mac);
    for (const part of parts) mac.update(`${Buffer.byteLength(part)}:${part}`);
    return mac.digest().subarray(0, 18).toString('base64url');
  }

  /** AES-256-GCM, bound to `context` (the key it is stored under). */
  seal(plain: Buffer, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#seal, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  /** The plain value, or null when it was not sealed by this host for `context`. */
  open(sealed: Buffer, context: string): Buffer | null {
    if (sealed.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#seal, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      return null;
    }
  }
}
