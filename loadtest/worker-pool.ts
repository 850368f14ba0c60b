/**
 * The runner's side of the workers: forks them (each its own process, so
 * each has its own 20,000 open files and its own event loop), initialises
 * them, runs phases on all of them at once and merges what they report.
 *
 * HTTP phases: the total arrival rate is split evenly; each worker's phase
 * histograms are merged by adding counts (`histogram.ts`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Histogram, mergeEncoded } from './histogram.js';
import type { Timeline } from './timeline.js';
import {
  addCounts,
  emptyCounts,
  type HttpCounts,
  type PhaseEnd,
  type RunnerMessage,
  type SessionTick,
  type WorkerInit,
  type WorkerMessage,
} from './workers/protocol.js';

const HTTP_WORKER = fileURLToPath(new URL('./workers/http-load.ts', import.meta.url));
const SESSION_WORKER = fileURLToPath(new URL('./workers/session-holder.ts', import.meta.url));

export interface PhaseResult {
  readonly name: string;
  readonly rate: number;
  readonly durationSec: number;
  /** Wall time from start until the last response (drain included). */
  readonly elapsedSec: number;
  readonly counts: HttpCounts;
  readonly ok: Histogram;
  readonly overloaded: Histogram;
  readonly sendLag: Histogram;
  readonly statuses: Record<string, number>;
  readonly sampleErrors: readonly string[];
}

export class WorkerPool {
  /** Generator CPU (ms) as the workers report it, summed. */
  cpuMs = 0;
  readonly rss = new Map<number, number>();
  readonly sessionTicks = new Map<number, SessionTick>();
  /** Ids the workers were given 2xx for (see `confirms`), and ids whose outcome they never learned. */
  readonly receipts = new Set<string>();
  readonly unknownIds = new Set<string>();
  private readonly children: ChildProcess[] = [];
  private phaseEnds: PhaseEnd[] = [];
  private phaseWaiter: (() => void) | null = null;
  private failure: string | null = null;

  private constructor(
    private readonly timeline: Timeline,
    /** What `receipts` holds: ballotIds (cast workers), voterHashes (check-in workers), or nothing. */
    readonly confirms: 'ballots' | 'check-ins' | null,
  ) {}

  static async start(timeline: Timeline, inits: readonly WorkerInit[]): Promise<WorkerPool> {
    const source = inits[0]?.kind === 'http' ? inits[0].source.type : null;
    const pool = new WorkerPool(
      timeline,
      source === 'cast' ? 'ballots' : source === 'check-in' ? 'check-ins' : null,
    );
    await Promise.all(inits.map((init) => pool.spawn(init)));
    return pool;
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid ?? -1);
  }

  get size(): number {
    return this.children.length;
  }

  private spawn(init: WorkerInit): Promise<void> {
    const child = fork(init.kind === 'http' ? HTTP_WORKER : SESSION_WORKER, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      child.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'ready':
            resolve();
            break;
          case 'http-tick':
            this.noteIds(m);
            this.cpuMs += m.cpuMs;
            this.rss.set(m.worker, m.rssBytes);
            this.timeline.addHttp(m);
            break;
          case 'session-tick':
            this.cpuMs += m.cpuMs;
            this.rss.set(m.worker, m.rssBytes);
            this.sessionTicks.set(m.worker, m);
            this.timeline.addSessions(m);
            break;
          case 'phase-end':
            this.noteIds(m);
            this.phaseEnds.push(m);
            if (this.phaseEnds.length === this.children.length) this.phaseWaiter?.();
            break;
          case 'failed':
            this.failure = m.message;
            reject(new Error(`worker ${m.worker} failed: ${m.message}`));
            this.phaseWaiter?.();
            break;
          default:
            break;
        }
      });
      child.on('exit', (code) => {
        if (code !== 0 && code !== null) {
          this.failure ??= `worker exited with code ${code}`;
          reject(new Error(this.failure));
          this.phaseWaiter?.();
        }
      });
      child.send({ type: 'init', init } satisfies RunnerMessage);
    });
  }

  private noteIds(m: { receipts: readonly string[]; unknownIds: readonly string[] }): void {
    for (const id of m.receipts) this.receipts.add(id);
    for (const id of m.unknownIds) this.unknownIds.add(id);
  }

  private broadcast(message: RunnerMessage): void {
    for (const c of this.children) if (c.connected) c.send(message);
  }

  /** Runs one open-model phase at `rate` arrivals/s in total; resolves when every worker has drained. */
  async phase(name: string, rate: number, durationSec: number): Promise<PhaseResult> {
    this.phaseEnds = [];
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      this.phaseWaiter = resolve;
    });
    this.broadcast({ type: 'phase', name, rate: rate / this.children.length, durationSec });
    await done;
    this.phaseWaiter = null;
    if (this.failure !== null) throw new Error(this.failure);
    const counts = emptyCounts();
    const statuses: Record<string, number> = {};
    const sampleErrors: string[] = [];
    for (const e of this.phaseEnds) {
      addCounts(counts, e.counts);
      for (const [k, v] of Object.entries(e.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
      for (const s of e.sampleErrors)
        if (sampleErrors.length < 8 && !sampleErrors.includes(s)) sampleErrors.push(s);
    }
    return {
      name,
      rate,
      durationSec,
      elapsedSec: (performance.now() - started) / 1000,
      counts,
      ok: mergeEncoded(this.phaseEnds.map((e) => e.okHistogram)),
      overloaded: mergeEncoded(this.phaseEnds.map((e) => e.overloadedHistogram)),
      sendLag: mergeEncoded(this.phaseEnds.map((e) => e.sendLagHistogram)),
      statuses,
      sampleErrors,
    };
  }

  /** Session workers: start ramping up (their phase command has no end). */
  startSessions(): void {
    this.broadcast({ type: 'phase', name: 'sessions', rate: 0, durationSec: 0 });
  }

  async stop(): Promise<void> {
    const exits = this.children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || !c.connected) resolve();
          else {
            c.once('exit', () => resolve());
            setTimeout(() => {
              c.kill('SIGKILL');
              resolve();
            }, 5_000).unref();
          }
        }),
    );
    this.broadcast({ type: 'stop' });
    await Promise.all(exits);
  }
}
