/**
 * The publisher under test, started as `npm start` starts it
 * (`publisher/main.ts`) but for the run's election, public directory and
 * port, with a short `SNAPSHOT_INTERVAL`. Its log goes to a file in the run's
 * directory: the reasons it gives for not publishing are part of the findings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../common/paths.js';
import type { RunElection } from '../run-election.js';

export interface PublisherOptions {
  readonly port: number;
  readonly intervalSec: number;
  readonly logFile: string;
}

export class PublisherProcess {
  private readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly options: PublisherOptions,
  ) {
    const keep = (d: Buffer): void => appendFileSync(options.logFile, d);
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(run: RunElection, options: PublisherOptions): Promise<PublisherProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', join('publisher', 'main.ts')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        STACK_DIR: run.stackDir,
        PUBLIC_DIR: run.publicDir,
        ELECTION: run.path,
        PUBLISHER_PORT: String(options.port),
        PUBLISHER_OPS_PORT: String(options.port + 1000),
        SNAPSHOT_INTERVAL: String(options.intervalSec),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const publisher = new PublisherProcess(child, options);
    await publisher.waitReady(60_000);
    return publisher;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`publisher exited during start-up; see ${this.options.logFile}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.options.port + 1000}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        this.child.kill('SIGKILL');
        throw new Error(`publisher not ready in ${timeoutMs / 1000} s; see ${this.options.logFile}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** kill -9, for the nemesis; resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (a snapshot being written finishes first), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}
