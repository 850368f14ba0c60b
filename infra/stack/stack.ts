/**
 * The local stack as one object: start, stop, inspect and fault-inject its
 * processes. The CLI (`infra/stack.ts`) and the tests both use this.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import { clickhouseService } from './clickhouse.js';
import { ensureDebianPackages, ensureKafkaJars } from './install.js';
import { kafkaBrokerServices } from './kafka.js';
import { type StackLayout, stackLayout } from './layout.js';
import { redisService } from './redis.js';
import type { StackService } from './service.js';
import { launch, runningPid, terminate, waitFor } from './supervisor.js';

/** A progress sink that drops lines, for callers that want quiet. */
const ignore = (_line: string): void => undefined;

export interface ServiceStatus {
  readonly name: string;
  readonly endpoint: string;
  readonly pid: number | null;
  readonly healthy: boolean;
  readonly logFile: string;
}

export class StackError extends Error {
  readonly code = 'SAYLAU_ERR_STACK';
  constructor(
    readonly service: string,
    message: string,
    readonly logFile: string,
  ) {
    super(`${service}: ${message} — see ${logFile}`);
  }
}

export class Stack {
  readonly layout: StackLayout;
  readonly services: readonly StackService[];

  constructor(readonly config: Config) {
    this.layout = stackLayout(config);
    this.services = [
      redisService(config, this.layout),
      ...kafkaBrokerServices(config, this.layout),
      clickhouseService(config, this.layout),
    ];
  }

  service(name: string): StackService {
    const found = this.services.find((s) => s.name === name);
    if (found === undefined) throw new Error(`unknown stack service "${name}"`);
    return found;
  }

  get kafkaBrokers(): readonly StackService[] {
    return this.services.filter((s) => s.name.startsWith('kafka-'));
  }

  pid(service: StackService): number | null {
    return runningPid(this.layout.pidFile(service.name), service.marker);
  }

  /** Installs what is missing, then starts every service not already running. */
  async up(progress: (line: string) => void = ignore): Promise<ServiceStatus[]> {
    ensureDebianPackages();
    ensureKafkaJars(this.layout.kafkaLibs);
    const started: StackService[] = [];
    for (const service of this.services) {
      if (this.pid(service) !== null) continue;
      if (await service.healthy().catch(() => false)) {
        throw new StackError(
          service.name,
          `something not started by this stack already answers on ${service.endpoint}; stop it or change the port`,
          this.layout.logFile(service.name),
        );
      }
      await service.prepare();
      progress(`starting ${service.name}`);
      launch(service.launchSpec());
      started.push(service);
    }
    // Start all, then wait for all: the three brokers must boot together to elect a controller.
    await Promise.all(started.map((service) => this.awaitHealthy(service)));
    return this.status();
  }

  /** Starts one service (after a fault test killed it) and waits until healthy. */
  async start(name: string): Promise<void> {
    const service = this.service(name);
    if (this.pid(service) !== null) return;
    await service.prepare();
    launch(service.launchSpec());
    await this.awaitHealthy(service);
  }

  /** Signals one service (SIGKILL for crash tests) and waits for it to exit. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    const service = this.service(name);
    return terminate(this.layout.pidFile(name), service.marker, signal);
  }

  private async awaitHealthy(service: StackService): Promise<void> {
    const ok = await waitFor(async () => {
      if (this.pid(service) === null) throw new Error('exited');
      return service.healthy();
    }, service.startTimeoutMs);
    if (!ok) {
      const why = this.pid(service) === null ? 'exited during start-up' : 'did not become healthy in time';
      throw new StackError(service.name, why, this.layout.logFile(service.name));
    }
  }

  /** Stops only processes this stack started (by pid file), in reverse order. */
  async down(progress: (line: string) => void = ignore): Promise<void> {
    // Brokers stop together so no one of them waits on a quorum that is leaving.
    const clickhouse = this.service('clickhouse');
    if (await this.stop(clickhouse.name)) progress(`stopped ${clickhouse.name}`);
    await Promise.all(
      this.kafkaBrokers.map(async (b) => {
        if (await this.stop(b.name, 'SIGTERM')) progress(`stopped ${b.name}`);
      }),
    );
    if (await this.stop('redis')) progress('stopped redis');
  }

  async status(): Promise<ServiceStatus[]> {
    return Promise.all(
      this.services.map(async (service) => {
        const pid = this.pid(service);
        return {
          name: service.name,
          endpoint: service.endpoint,
          pid,
          healthy: pid !== null && (await service.healthy().catch(() => false)),
          logFile: this.layout.logFile(service.name),
        };
      }),
    );
  }

  /** Wipes all data (keeps downloaded jars). Refuses while anything runs. */
  async reset(): Promise<void> {
    const running = (await this.status()).filter((s) => s.pid !== null);
    if (running.length > 0) {
      throw new Error(`stop the stack first (running: ${running.map((s) => s.name).join(', ')})`);
    }
    if (!existsSync(this.layout.root)) return;
    for (const entry of readdirSync(this.layout.root)) {
      if (entry === 'kafka') {
        for (const inner of readdirSync(this.layout.kafkaDir)) {
          if (inner !== 'libs') rmSync(join(this.layout.kafkaDir, inner), { recursive: true, force: true });
        }
      } else {
        rmSync(join(this.layout.root, entry), { recursive: true, force: true });
      }
    }
  }
}
