/**
 * The system under test: the real ingest supervisor (`ingest/main.ts`) for
 * the run's election, on the run's own ports, talking to the real local
 * stack (Redis, 3 Kafka brokers). Settings go in through the environment,
 * as for any deployment (common/config.ts).
 *
 * Crashes are watched: a worker restart shows up in the supervisor's log
 * ("ingest worker exited; restarting") and an exit of the supervisor itself
 * is recorded; the overload scenario fails on either.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../common/paths.js';
import type { RunElection } from './run-election.js';

export interface IngestOptions {
  readonly processes: number;
  readonly ports: readonly number[];
  readonly maxInFlight: number;
  readonly devLogin: boolean;
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Also append everything ingest prints to this file (the fault harness keeps whole logs). */
  readonly logFile?: string;
  /** How long to wait for `/readyz` (operations port) before giving up and killing it. @default 90000 */
  readonly readyTimeoutMs?: number;
}

/** INGEST_OPS_PORT for a run on `ports`: above the run's voting ports (INGEST_OPS_PORT's default for one port). */
export function opsPortOf(ports: readonly number[]): number {
  return ports[0]! + 1000;
}

export class IngestUnderTest {
  restarts = 0;
  exitedEarly: string | null = null;
  private output = '';
  private stopping = false;
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly options: IngestOptions,
  ) {
    const keep = (d: Buffer): void => {
      const text = d.toString();
      this.output = (this.output + text).slice(-20_000);
      if (options.logFile !== undefined) appendFileSync(options.logFile, text);
      this.restarts += text.split('ingest worker exited; restarting').length - 1;
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        if (!this.stopping) this.exitedEarly = `ingest exited (code ${code}, signal ${signal})`;
        resolve(code);
      }),
    );
  }

  static async start(run: RunElection, options: IngestOptions): Promise<IngestUnderTest> {
    const [port, ...extra] = options.ports;
    const child = spawn(process.execPath, ['--import', 'tsx', join('ingest', 'main.ts')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        STACK_DIR: run.stackDir,
        PUBLIC_DIR: run.publicDir,
        ELECTION: run.path,
        INGEST_PORT: String(port),
        INGEST_OPS_PORT: String(opsPortOf(options.ports)),
        INGEST_EXTRA_PORTS: extra.join(','),
        INGEST_PROCESSES: String(options.processes),
        INGEST_MAX_IN_FLIGHT: String(options.maxInFlight),
        DEV_LOGIN: options.devLogin ? '1' : '0',
        LOG_LEVEL: 'warn',
        // Every load-test request comes from one address (127.0.0.1): the
        // per-address issuance limit is for real voters; the abuse scenario turns it back on.
        INGEST_ISSUE_ADDRESS_PER_MIN: '0',
        ...options.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ingest = new IngestUnderTest(child, options);
    await ingest.waitReady(options.readyTimeoutMs ?? 90_000);
    return ingest;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get log(): string {
    return this.output;
  }

  /** The operations port's base URL (`/healthz`, `/readyz`, `/metrics`). */
  get ops(): string {
    return `http://127.0.0.1:${opsPortOf(this.options.ports)}`;
  }

  /**
   * `/readyz` 200 on the operations port, and every voting port answers (all
   * processes share every port, so both are a sample).
   */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set([-1, ...this.options.ports]);
    while (pending.size > 0) {
      if (this.exitedEarly !== null) throw new Error(`${this.exitedEarly}:\n${this.output}`);
      if (Date.now() > deadline) {
        this.child.kill('SIGKILL');
        throw new Error(`ingest not ready in ${timeoutMs / 1000} s:\n${this.output}`);
      }
      for (const port of [...pending]) {
        try {
          // Any answer on a voting port means it listens; readiness is the operations port's to say.
          const url = port === -1 ? `${this.ops}/readyz` : `http://127.0.0.1:${port}/v1/none`;
          const res = await fetch(url);
          if (port !== -1 || res.status === 200) pending.delete(port);
        } catch {
          // not listening yet
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    // SO_REUSEPORT: give the other processes a moment to bind before load arrives.
    await new Promise((r) => setTimeout(r, 1500 + 250 * this.options.processes));
  }

  /** SIGTERM (graceful drain), SIGKILL after 30 s. */
  async stop(): Promise<number | null> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
