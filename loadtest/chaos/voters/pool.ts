/**
 * The harness's side of the voter processes: forks them (each its own event
 * loop, so the nemesis and the sampler keep time), hands each its slice of
 * voters, starts them on one clock, feeds their ticks to the series and
 * collects their summaries.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChaosSeries } from '../series.js';
import type { HarnessMessage, VoterSummary, VoterWorkerInit, VoterWorkerMessage } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export class VoterPool {
  /** Generator CPU reported by the workers, ms. */
  cpuMs = 0;
  readonly summaries: VoterSummary[] = [];
  private readonly children: ChildProcess[] = [];
  private series: ChaosSeries | null = null;
  private failure: string | null = null;
  private doneWaiter: (() => void) | null = null;

  static async start(inits: readonly VoterWorkerInit[]): Promise<VoterPool> {
    const pool = new VoterPool();
    await Promise.all(inits.map((init) => pool.spawn(init)));
    return pool;
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid ?? -1);
  }

  private spawn(init: VoterWorkerInit): Promise<void> {
    const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      child.on('message', (m: VoterWorkerMessage) => {
        switch (m.type) {
          case 'ready':
            resolve();
            break;
          case 'tick':
            this.cpuMs += m.cpuMs;
            this.series?.addTick(m);
            break;
          case 'done':
            this.summaries.push(m.summary);
            if (this.summaries.length === this.children.length) this.doneWaiter?.();
            break;
          case 'failed':
            this.failure = `voter worker ${m.worker} failed: ${m.message}`;
            reject(new Error(this.failure));
            this.doneWaiter?.();
            break;
        }
      });
      child.on('exit', (code) => {
        if (code !== 0 && code !== null) {
          this.failure ??= `voter worker exited with code ${code}`;
          reject(new Error(this.failure));
          this.doneWaiter?.();
        }
      });
      child.send({ type: 'init', init } satisfies HarnessMessage);
    });
  }

  /** Starts every worker on the same clock; resolves when every voter is done (or the deadline passed). */
  async run(series: ChaosSeries, arrivalsMs: number, deadlineMs: number): Promise<void> {
    this.series = series;
    const done = new Promise<void>((resolve) => {
      this.doneWaiter = resolve;
    });
    for (const child of this.children) {
      child.send({ type: 'start', t0: series.t0, arrivalsMs, deadlineMs } satisfies HarnessMessage);
    }
    await done;
    if (this.failure !== null) throw new Error(this.failure);
  }

  stop(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGTERM');
  }
}
