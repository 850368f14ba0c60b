/**
 * The crypto pool: RSA blind signing on piscina worker threads, so the event
 * loop keeps serving while a 2048–3072-bit private operation runs (~1–3 ms
 * each). Credential verification (a ~30 µs public operation) stays on the
 * event loop: a round trip to a worker costs more than the verify.
 *
 * The queue is bounded (`INGEST_CRYPTO_MAX_QUEUE` waiting tasks beyond the
 * ones running): a task that would wait behind more is refused at once with
 * `503 overloaded` rather than queued for seconds, so a flood of issuance
 * cannot grow memory or the wait of every later request without bound.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { IngestError } from '../errors.js';
import type { BlindSignTask, CryptoWorkerData } from './worker.js';

export interface CryptoPoolOptions {
  readonly threads: number;
  /** Tasks that may wait for a thread; one more is refused with `overloaded`. */
  readonly maxQueue: number;
  /** Called for every task refused because the queue is full (a counter). */
  readonly onFull: () => void;
  /** Called for every private-key operation started (a counter). */
  readonly onSign: () => void;
  /** [districtId, private key PEM] pairs. */
  readonly districts: readonly (readonly [string, string])[];
}

const workerUrl = new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class CryptoPool {
  private readonly pool: Piscina;
  /** Tasks running or waiting: counted here so the bound does not depend on piscina's accounting. */
  private outstanding = 0;

  constructor(private readonly options: CryptoPoolOptions) {
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

  /** The queue is full now: a request that would need a signature is better refused before any other work. */
  get full(): boolean {
    return this.outstanding >= this.options.threads + this.options.maxQueue;
  }

  async blindSign(district: string, blinded: Uint8Array): Promise<Buffer> {
    if (this.full) {
      this.options.onFull();
      throw new IngestError('overloaded');
    }
    const task: BlindSignTask = { district, blinded };
    this.outstanding++;
    this.options.onSign();
    let signature: Uint8Array | null;
    try {
      signature = (await this.pool.run(task)) as Uint8Array | null;
    } finally {
      this.outstanding--;
    }
    if (signature === null) throw new IngestError('bad_request', 'The blinded message is out of range.');
    return Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
