/**
 * What a measurement window cost: this process's CPU (`process.cpuUsage()`),
 * the Kafka brokers' CPU (their `/proc/<pid>/stat`, via loadtest/proc-stats.ts)
 * and the whole machine's busy CPU, between `mark()` and `since()`.
 *
 * Broker pids come from the stack's pid files (`<stack>/run/kafka-N.pid`,
 * infra/stack/layout.ts), read only; without them broker CPU is `null`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineCpu, treeUsage } from '../../loadtest/proc-stats.js';

export interface UsageMark {
  readonly atMs: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly brokerCpuMs: number | null;
  readonly machineBusyMs: number;
}

export interface WindowUsage {
  readonly wallMs: number;
  /** This process, user + system. */
  readonly cpuMs: number;
  readonly userMs: number;
  readonly systemMs: number;
  /** All brokers together (10 ms ticks), or null when their pids are unknown. */
  readonly brokerCpuMs: number | null;
  /** Busy cores on the whole machine over the window (everything, not just this benchmark). */
  readonly machineBusyCores: number;
}

/** Pids of `kafka-*.pid` in `<stackDir>/run` whose process is alive; empty when there are none. */
export function brokerPids(stackDir: string): number[] {
  const runDir = join(stackDir, 'run');
  let names: string[];
  try {
    names = readdirSync(runDir).filter((n) => /^kafka-\d+\.pid$/.test(n));
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names.sort()) {
    const pid = Number(readFileSync(join(runDir, name), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && treeUsage([pid])[0]!.pids > 0) pids.push(pid);
  }
  return pids;
}

/** The brokers' CPU ms so far; null when unknown or when one of them is gone (restarted mid-run). */
function brokersCpu(pids: readonly number[]): number | null {
  if (pids.length === 0) return null;
  let total = 0;
  for (const usage of treeUsage(pids)) {
    if (usage.pids === 0) return null;
    total += usage.cpuMs;
  }
  return total;
}

/** Cores the brokers use over `ms` while this benchmark sends nothing (other users, controllers, replication). */
export async function idleBrokerCores(pids: readonly number[], ms: number): Promise<number | null> {
  const start = brokersCpu(pids);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const end = brokersCpu(pids);
  if (start === null || end === null) return null;
  return (end - start) / (performance.now() - t0);
}

export function mark(pids: readonly number[]): UsageMark {
  return {
    atMs: performance.now(),
    cpu: process.cpuUsage(),
    brokerCpuMs: brokersCpu(pids),
    machineBusyMs: machineCpu().busyMs,
  };
}

export function since(start: UsageMark, pids: readonly number[]): WindowUsage {
  const end = mark(pids);
  const cpu = process.cpuUsage(start.cpu);
  const wallMs = end.atMs - start.atMs;
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    userMs: cpu.user / 1000,
    systemMs: cpu.system / 1000,
    brokerCpuMs:
      start.brokerCpuMs === null || end.brokerCpuMs === null ? null : end.brokerCpuMs - start.brokerCpuMs,
    machineBusyCores: (end.machineBusyMs - start.machineBusyMs) / wallMs,
  };
}
