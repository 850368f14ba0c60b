/**
 * The system under test, as the nemesis sees it: the stack's services
 * (Redis, three Kafka brokers, ClickHouse: `infra/stack/stack.ts`, found by
 * their pid files), the ingest supervisor and its workers, and the
 * publisher. The harness starts ingest and the publisher itself, so it can
 * restart them after a kill as systemd would.
 *
 * Every SIGSTOP is remembered until its SIGCONT, so `healAll` (also run on
 * Ctrl-C) never leaves a frozen process behind.
 */
import { rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../../common/config.js';
import { ensureRoll, rollKey } from '../../election/index.js';
import { Stack } from '../../infra/stack/stack.js';
import { awaitCluster } from '../../infra/topics.js';
import { IngestUnderTest } from '../ingest-process.js';
import { childPids } from '../proc-stats.js';
import type { RunElection } from '../run-election.js';
import { PublisherProcess } from './publisher-process.js';

export interface SystemOptions {
  readonly port: number;
  readonly publisherPort: number;
  readonly processes: number;
  readonly maxInFlight: number;
  readonly produceTimeoutMs: number;
  readonly snapshotIntervalSec: number;
  /** Where ingest.log and publisher.log go. */
  readonly dir: string;
  /** More settings for ingest (the insider harness: the mix's k and T, log level). */
  readonly ingestEnv?: Readonly<Record<string, string>>;
}

export class SystemUnderTest {
  readonly stack: Stack;
  ingest: IngestUnderTest | null = null;
  publisher: PublisherProcess | null = null;
  /** Supervisors started so far (1 + restarts after kills). */
  ingestStarts = 0;
  publisherStarts = 0;
  private readonly stopped = new Set<number>();
  private rollRegions = 0;
  /** False once the run stopped them on purpose: healing must not start them again. */
  private ingestWanted = true;
  private publisherWanted = true;

  constructor(
    readonly config: Config,
    readonly run: RunElection,
    readonly options: SystemOptions,
  ) {
    this.stack = new Stack(config);
  }

  get brokers(): string[] {
    return this.stack.kafkaBrokers.map((b) => b.name);
  }

  get ingestBase(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** The operations port (`/healthz`, `/readyz`, `/metrics`): INGEST_OPS_PORT's default, port + 1000. */
  get ingestOps(): string {
    return `http://127.0.0.1:${this.options.port + 1000}`;
  }

  async startIngest(): Promise<void> {
    this.ingest = await IngestUnderTest.start(this.run, {
      processes: this.options.processes,
      ports: [this.options.port],
      maxInFlight: this.options.maxInFlight,
      devLogin: true,
      extraEnv: {
        INGEST_PRODUCE_TIMEOUT_MS: String(this.options.produceTimeoutMs),
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        ...this.options.ingestEnv,
      },
      logFile: join(this.options.dir, 'ingest.log'),
      // A supervisor restarted while Kafka is down waits for it, as a systemd unit would.
      readyTimeoutMs: 300_000,
    });
    this.ingestStarts++;
  }

  async startPublisher(): Promise<void> {
    this.publisher = await PublisherProcess.start(this.run, {
      port: this.options.publisherPort,
      intervalSec: this.options.snapshotIntervalSec,
      logFile: join(this.options.dir, 'publisher.log'),
    });
    this.publisherStarts++;
  }

  /** The supervisor's live workers. */
  ingestWorkers(): number[] {
    const pid = this.ingest?.pid ?? -1;
    return pid > 0 ? childPids(pid) : [];
  }

  get ingestAlive(): boolean {
    const child = this.ingest?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  servicePid(name: string): number | null {
    return this.stack.pid(this.stack.service(name));
  }

  stall(pid: number): void {
    process.kill(pid, 'SIGSTOP');
    this.stopped.add(pid);
  }

  resume(pid: number): void {
    this.stopped.delete(pid);
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone meanwhile: nothing to resume
    }
  }

  /** Starts the given brokers together and waits for the whole cluster. */
  async startBrokers(names: readonly string[]): Promise<void> {
    await Promise.all(names.map((name) => this.stack.start(name)));
    await awaitCluster(this.config, 120_000);
  }

  /** Deletes Redis's persisted data (AOF, RDB); only while Redis is down. */
  async wipeRedisData(): Promise<string[]> {
    const dir = this.stack.layout.redisDir;
    const removed: string[] = [];
    for (const entry of await readdir(dir)) {
      if (entry === 'redis.conf') continue;
      rmSync(join(dir, entry), { recursive: true, force: true });
      removed.push(entry);
    }
    return removed;
  }

  async withRedis<T>(use: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      host: this.config.redis.host,
      port: this.config.redis.port,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 3_000,
    });
    redis.on('error', () => undefined); // surfaced by the command that fails
    try {
      await redis.connect();
      return await use(redis);
    } finally {
      redis.disconnect();
    }
  }

  private async rollRegionsPresent(): Promise<number> {
    const keys = this.run.index.config.regions.map((r) => rollKey(this.run.index.id, r.code));
    return this.withRedis(async (redis) => (keys.length === 0 ? 0 : redis.exists(...keys)));
  }

  /** Remembers how many regions' roll hashes exist now (after `election init`). */
  async noteRoll(): Promise<void> {
    this.rollRegions = await this.rollRegionsPresent();
  }

  /**
   * Waits up to `graceMs` for the roll to be whole again (ingest restoring it
   * by itself, as DESIGN §4 asks); if it is not, reloads it as an operator
   * would (`npm run election -- load`). Returns how it came back.
   */
  async awaitRoll(graceMs: number): Promise<{ by: 'intact' | 'ingest' | 'operator'; afterMs: number }> {
    const started = Date.now();
    let first = true;
    for (;;) {
      const present = await this.rollRegionsPresent().catch(() => -1);
      if (present >= this.rollRegions) {
        return { by: first ? 'intact' : 'ingest', afterMs: Date.now() - started };
      }
      first = false;
      if (Date.now() - started >= graceMs) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await this.withRedis((redis) => ensureRoll(redis, this.run.index, this.run.keys, { force: true }));
    return { by: 'operator', afterMs: Date.now() - started };
  }

  /**
   * Puts everything back: resumes frozen processes, starts stopped services
   * (brokers together), restarts ingest and the publisher if they are gone.
   * Returns what it had to do.
   */
  async healAll(): Promise<string[]> {
    const done: string[] = [];
    for (const pid of [...this.stopped]) {
      this.resume(pid);
      done.push(`SIGCONT ${pid}`);
    }
    const down = this.stack.services.filter((s) => this.stack.pid(s) === null).map((s) => s.name);
    const brokers = down.filter((n) => n.startsWith('kafka-'));
    for (const name of down.filter((n) => !n.startsWith('kafka-'))) {
      await this.stack.start(name);
      done.push(`started ${name}`);
    }
    if (brokers.length > 0) {
      await this.startBrokers(brokers);
      done.push(`started ${brokers.join(', ')}`);
    }
    if (this.ingestWanted && this.ingest !== null && !this.ingestAlive) {
      await this.startIngest();
      done.push('restarted ingest');
    }
    if (this.publisherWanted && this.publisher !== null && !this.publisher.alive) {
      await this.startPublisher();
      done.push('restarted the publisher');
    }
    return done;
  }

  /** Graceful stops (SIGTERM): ingest drains and flushes, the publisher finishes a snapshot. */
  async stopIngest(): Promise<number | null> {
    this.ingestWanted = false;
    return this.ingest === null ? null : this.ingest.stop();
  }

  async stopPublisher(): Promise<void> {
    this.publisherWanted = false;
    await this.publisher?.stop();
  }
}
