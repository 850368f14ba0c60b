/**
 * The nemesis: runs the fault plan against the system under test, one lane
 * at a time per component (or one lane for all), and logs every fault with
 * its start (injected), heal start and end (healthy again), in seconds since
 * the run started:
 *
 *   lane:  sleep(gap) ─► inject ─► hold ─► heal (restart / SIGCONT / wait) ─► next
 *
 * A fault whose start would fall after the arrival window is skipped and
 * logged as such; a fault that fails to inject or heal is logged with its
 * error and the lane goes on (the final `healAll` puts everything back).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning } from '../proc-stats.js';
import { conflicts, type FaultKind } from './faults.js';
import type { Plan, PlannedFault } from './plan.js';
import { pick, type Random, seeded } from './random.js';
import type { SystemUnderTest } from './system.js';

export interface FaultRecord {
  readonly n: number;
  readonly kind: FaultKind;
  readonly lane: string;
  target: string;
  /** Seconds since the run started; null when it never happened. */
  startSec: number | null;
  healSec: number | null;
  endSec: number | null;
  /** Time healing took (restart until healthy, SIGCONT, roll back). */
  healMs: number | null;
  notes: string[];
  error: string | null;
  skipped: string | null;
}

/** Something a person had to do for the system to work again. */
export interface OperatorAction {
  readonly atSec: number;
  readonly fault: number;
  readonly action: string;
}

export interface NemesisOptions {
  readonly seed: number;
  /** Faults do not start after this (ms since the run started): while voters still retry. */
  readonly lastStartMs: number;
  /** How long ingest gets to restore the roll after Redis lost it before an operator reloads it. */
  readonly rollGraceMs: number;
  readonly log: (line: string) => void;
}

export class Nemesis {
  readonly records: FaultRecord[] = [];
  readonly operatorActions: OperatorAction[] = [];
  private readonly rng: Random;
  private t0 = 0;
  private stopped = false;
  /** Faults injected and not yet healed. */
  private readonly active = new Set<FaultKind>();

  constructor(
    private readonly sut: SystemUnderTest,
    private readonly plan: Plan,
    private readonly o: NemesisOptions,
  ) {
    this.rng = seeded(o.seed ^ 0x5eed);
    for (const f of plan.faults) {
      this.records.push({
        n: f.n,
        kind: f.kind,
        lane: f.lane,
        target: f.target ?? '',
        startSec: null,
        healSec: null,
        endSec: null,
        healMs: null,
        notes: [],
        error: null,
        skipped: null,
      });
    }
  }

  private get now(): number {
    return Math.round((Date.now() - this.t0) / 100) / 10;
  }

  /** Runs every lane; resolves when all faults have run (or were skipped). */
  async run(t0: number): Promise<void> {
    this.t0 = t0;
    const lanes = new Map<string, PlannedFault[]>();
    for (const f of this.plan.faults) lanes.set(f.lane, [...(lanes.get(f.lane) ?? []), f]);
    await Promise.all([...lanes.values()].map((faults) => this.lane(faults)));
  }

  /** Stops starting new faults (Ctrl-C); the current ones still heal. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * One lane: after each gap, the first fault in the lane's order that does
   * not conflict with a fault running on another lane (`faults.ts`), so a
   * conflict reorders the lane instead of stalling it.
   */
  private async lane(faults: readonly PlannedFault[]): Promise<void> {
    const queue = [...faults];
    const late = (): boolean => this.stopped || Date.now() - this.t0 > this.o.lastStartMs;
    while (queue.length > 0 && !late()) {
      await sleep(queue[0]!.gapMs);
      let at = -1;
      while (at === -1 && !late()) {
        at = queue.findIndex((f) => ![...this.active].some((k) => conflicts(f.kind, k)));
        if (at === -1) await sleep(500);
      }
      if (at === -1) break;
      const f = queue.splice(at, 1)[0]!;
      const rec = this.records[f.n - 1]!;
      this.active.add(f.kind);
      try {
        await this.execute(f, rec);
      } catch (err) {
        rec.error = (err as Error).message.slice(0, 500);
        this.o.log(`fault ${f.n} ${f.kind}: FAILED: ${rec.error}`);
      } finally {
        this.active.delete(f.kind);
      }
      rec.endSec ??= this.now;
    }
    for (const f of queue) {
      const rec = this.records[f.n - 1]!;
      rec.skipped = this.stopped
        ? 'run interrupted'
        : `no time left: the lane reached ${this.now} s, after the last start time (${this.o.lastStartMs / 1000} s)`;
      this.o.log(`fault ${f.n} ${f.kind}: skipped (${rec.skipped})`);
    }
  }

  private async execute(f: PlannedFault, rec: FaultRecord): Promise<void> {
    const { sut } = this;
    const injected = (target: string): void => {
      rec.target = target;
      rec.startSec = this.now;
      this.o.log(`fault ${f.n} ${f.kind} → ${target} (hold ${f.holdMs / 1000} s)`);
    };
    const heal = async (step: () => Promise<void>): Promise<void> => {
      await sleep(f.holdMs);
      rec.healSec = this.now;
      const started = Date.now();
      await step();
      rec.healMs = Date.now() - started;
      rec.endSec = this.now;
      this.o.log(`fault ${f.n} ${f.kind}: healed in ${(rec.healMs / 1000).toFixed(1)} s`);
    };
    switch (f.kind) {
      case 'ingest-worker-kill': {
        const victim = pick(this.rng, this.requireWorkers());
        process.kill(victim, 'SIGKILL');
        injected(`ingest worker pid ${victim}`);
        await heal(() => this.awaitWorkers(victim));
        return;
      }
      case 'ingest-supervisor-kill': {
        const ingest = sut.ingest;
        if (ingest === null || !sut.ingestAlive) throw new Error('ingest is not running');
        const workers = sut.ingestWorkers();
        ingest.child.kill('SIGKILL');
        injected(`ingest supervisor pid ${ingest.pid} (workers ${workers.join(', ')})`);
        await heal(() => sut.startIngest());
        void this.watchOrphans(rec, workers);
        return;
      }
      case 'ingest-worker-stall': {
        const victim = pick(this.rng, this.requireWorkers());
        sut.stall(victim);
        injected(`ingest worker pid ${victim}`);
        await heal(async () => sut.resume(victim));
        return;
      }
      case 'kafka-broker-kill': {
        const broker = f.target ?? pick(this.rng, sut.brokers);
        await sut.stack.stop(broker, 'SIGKILL');
        injected(broker);
        await heal(() => sut.startBrokers([broker]));
        return;
      }
      case 'kafka-broker-stall': {
        const broker = f.target ?? pick(this.rng, sut.brokers);
        const pid = this.requirePid(broker);
        sut.stall(pid);
        injected(`${broker} pid ${pid}`);
        await heal(async () => sut.resume(pid));
        return;
      }
      case 'kafka-all-down': {
        await Promise.all(sut.brokers.map((b) => sut.stack.stop(b, 'SIGKILL')));
        injected(sut.brokers.join(', '));
        await heal(() => sut.startBrokers(sut.brokers));
        return;
      }
      case 'redis-kill': {
        await sut.stack.stop('redis', 'SIGKILL');
        injected('redis');
        await heal(async () => {
          await sut.stack.start('redis');
          await this.rollBack(f, rec);
        });
        return;
      }
      case 'redis-lose': {
        await sut.stack.stop('redis', 'SIGKILL');
        const removed = await sut.wipeRedisData();
        injected('redis');
        rec.notes.push(`deleted ${removed.join(', ') || 'nothing (no data files)'}`);
        await heal(async () => {
          await sut.stack.start('redis');
          await this.rollBack(f, rec);
        });
        return;
      }
      case 'redis-flushall': {
        await sut.withRedis((redis) => redis.flushall());
        injected('redis');
        await heal(() => this.rollBack(f, rec));
        return;
      }
      case 'redis-stall': {
        const pid = this.requirePid('redis');
        sut.stall(pid);
        injected(`redis pid ${pid}`);
        await heal(async () => sut.resume(pid));
        return;
      }
      case 'clickhouse-kill': {
        await sut.stack.stop('clickhouse', 'SIGKILL');
        injected('clickhouse');
        await heal(() => sut.stack.start('clickhouse'));
        return;
      }
      case 'publisher-kill': {
        const publisher = sut.publisher;
        if (publisher === null || !publisher.alive) throw new Error('the publisher is not running');
        const pid = publisher.pid;
        await publisher.kill();
        injected(`publisher pid ${pid}`);
        await heal(() => sut.startPublisher());
        return;
      }
    }
  }

  private requireWorkers(): number[] {
    const workers = this.sut.ingestWorkers();
    if (workers.length === 0) throw new Error('no ingest worker is running');
    return workers;
  }

  private requirePid(service: string): number {
    const pid = this.sut.servicePid(service);
    if (pid === null) throw new Error(`${service} is not running`);
    return pid;
  }

  /**
   * The supervisor has replaced `victim` and ingest answers again (`/healthz`:
   * the process is up; `/readyz` also needs Kafka, which another fault may hold).
   */
  private async awaitWorkers(victim: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const workers = this.sut.ingestWorkers();
      if (workers.length >= this.sut.options.processes && !workers.includes(victim)) {
        const up = await fetch(`${this.sut.ingestOps}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) return;
      }
      if (Date.now() > deadline) throw new Error(`worker ${victim} not replaced within 60 s`);
      await sleep(200);
    }
  }

  /** After Redis lost (or may have lost) its data: the roll must be back before voters can get credentials. */
  private async rollBack(f: PlannedFault, rec: FaultRecord): Promise<void> {
    const back = await this.sut.awaitRoll(this.o.rollGraceMs);
    if (back.by === 'intact') return;
    rec.notes.push(`roll restored by ${back.by} after ${(back.afterMs / 1000).toFixed(1)} s`);
    if (back.by === 'operator') {
      this.operatorActions.push({
        atSec: this.now,
        fault: f.n,
        action: `reloaded the roll (ingest had not restored it ${this.o.rollGraceMs / 1000} s after ${f.kind})`,
      });
    }
  }

  /** Workers of a killed supervisor must drain and exit by themselves; note how long they took. */
  private async watchOrphans(rec: FaultRecord, workers: readonly number[]): Promise<void> {
    const started = Date.now();
    const alive = (): number[] => workers.filter(isRunning);
    while (alive().length > 0 && Date.now() - started < 60_000) await sleep(250);
    const left = alive();
    rec.notes.push(
      left.length === 0
        ? `old workers exited ${((Date.now() - started) / 1000).toFixed(1)} s after the heal`
        : `old workers still running 60 s later: ${left.join(', ')}`,
    );
  }
}
