/**
 * The crypto pool: RSA blind signing on piscina worker threads, so the event
 * loop keeps serving while a 2048–3072-bit private operation runs (~1–3 ms
 * each). Credential verification (a ~30 µs public operation) stays on the
 * event loop: a round trip to a worker costs more than the verify.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { IngestError } from '../errors.js';
import type { BlindSignTask, CryptoWorkerData } from './worker.js';

export interface CryptoPoolOptions {
  readonly threads: number;
  /** [districtId, private key PEM] pairs. */
  readonly districts: readonly (readonly [string, string])[];
}

const workerUrl = new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class CryptoPool {
  private readonly pool: Piscina;

  constructor(options: CryptoPoolOptions) {
    const filename = fileURLToPath(workerUrl);
    const workerData: CryptoWorkerData = { districts: options.districts };
    this.pool = new Piscina({
      filename,
      minThreads: options.threads,
      maxThreads: options.threads,
      workerData,
      // Workers are .ts under tsx in development; compiled .js need no loader.
      execArgv: filename.endsWith('.ts') ? ['--import', 'tsx'] : [],
    });
  }

  /** Tasks waiting for a thread (for the queue-depth gauge). */
  get queueDepth(): number {
    return this.pool.queueSize;
  }

  async blindSign(district: string, blinded: Uint8Array): Promise<Buffer> {
    const task: BlindSignTask = { district, blinded };
    const signature = (await this.pool.run(task)) as Uint8Array | null;
    if (signature === null) throw new IngestError('bad_request', 'The blinded message is out of range.');
    return Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
