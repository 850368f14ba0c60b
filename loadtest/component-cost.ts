/**
 * What each part of the system costs per accepted request: CPU time of
 * ingest, Redis, the Kafka brokers, ClickHouse and the load generator (and
 * the rest of the machine) between two readings, per 1,000 requests. The
 * stack's processes are found by their pid files (`infra/stack`), so the
 * figures are those of the same run, on the same box, as its latency.
 */
import type { Config } from '../common/config.js';
import { stackLayout } from '../infra/stack/layout.js';
import { readPid } from '../infra/stack/supervisor.js';
import { machineCpu, treeUsage } from './proc-stats.js';

/** CPU ms so far of each component (process trees), and of the whole machine. */
export type CpuReading = Readonly<Record<string, number>>;

const STACK_COMPONENTS: readonly (readonly [string, readonly string[]])[] = [
  ['redis', ['redis']],
  ['kafka', ['kafka-1', 'kafka-2', 'kafka-3']],
  ['clickhouse', ['clickhouse']],
];

export class ComponentCpu {
  readonly #pidFile: (service: string) => string;

  constructor(config: Config) {
    this.#pidFile = stackLayout(config).pidFile;
  }

  /** Reads every component now; `generatorMs` is the generator's own running total. */
  read(ingestPid: number, generatorMs: number): CpuReading {
    const groups: [string, number[]][] = [['ingest', [ingestPid]]];
    for (const [name, services] of STACK_COMPONENTS) {
      groups.push([name, services.map((s) => readPid(this.#pidFile(s)) ?? -1)]);
    }
    const usage = treeUsage(groups.flatMap(([, pids]) => pids));
    const reading: Record<string, number> = {};
    let i = 0;
    for (const [name, pids] of groups) {
      let cpuMs = 0;
      for (let n = 0; n < pids.length; n++) cpuMs += usage[i++]?.cpuMs ?? 0;
      reading[name] = cpuMs;
    }
    reading.generator = generatorMs;
    reading.machine = machineCpu().busyMs;
    return reading;
  }
}

/**
 * CPU ms per 1,000 accepted requests between two readings, per component;
 * `other` is the machine less the named components (the publisher, the OS,
 * anything else on the box).
 */
export function costPerThousand(
  start: CpuReading,
  end: CpuReading,
  accepted: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (accepted <= 0) return out;
  let named = 0;
  for (const name of Object.keys(end)) {
    const spent = Math.max(0, (end[name] ?? 0) - (start[name] ?? 0));
    if (name !== 'machine') named += spent;
    out[name] = Math.round((spent / accepted) * 1000 * 10) / 10;
  }
  const machine = Math.max(0, (end.machine ?? 0) - (start.machine ?? 0));
  out.other = Math.round((Math.max(0, machine - named) / accepted) * 1000 * 10) / 10;
  return out;
}
