/**
 * Once a second: machine CPU (/proc/stat) and the CPU of ingest's and the
 * voters' process trees, as % of one core, into the series. Ingest's root
 * changes when the nemesis kills its supervisor, so trees are keyed by pid.
 */
import { machineCpu, treeUsage } from '../proc-stats.js';
import { machineInfo } from '../report-json.js';
import type { ChaosSeries } from './series.js';

export class CpuSampler {
  private timer: NodeJS.Timeout | null = null;
  private generatorMs = 0;
  private machineMs = 0;

  constructor(
    private readonly series: ChaosSeries,
    private readonly ingestPid: () => number,
    private readonly voterPids: () => readonly number[],
  ) {}

  start(): void {
    const cores = machineInfo(null).cpus;
    let lastMachine = machineCpu();
    const last = new Map<number, number>();
    const delta = (pid: number, cpuMs: number): number => {
      const before = last.get(pid);
      last.set(pid, cpuMs);
      return before === undefined ? 0 : Math.max(0, cpuMs - before);
    };
    this.timer = setInterval(() => {
      const machine = machineCpu();
      const span = machine.totalMs - lastMachine.totalMs;
      const roots = [this.ingestPid(), ...this.voterPids()];
      const usage = treeUsage(roots);
      const ingest = delta(roots[0]!, usage[0]?.cpuMs ?? 0);
      let voters = 0;
      for (let i = 1; i < roots.length; i++) voters += delta(roots[i]!, usage[i]?.cpuMs ?? 0);
      if (span > 0) {
        const pct = (v: number): number => Math.round((v / (span / cores)) * 1000) / 10;
        this.generatorMs += voters;
        this.machineMs += span;
        this.series.sample({
          machineCpuPct: pct(machine.busyMs - lastMachine.busyMs),
          ingestCpuPct: pct(ingest),
          generatorCpuPct: pct(voters),
        });
      }
      lastMachine = machine;
    }, 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The voters' share of the machine over the run, %. */
  get generatorPctOfMachine(): number {
    return this.machineMs > 0 ? Math.round((this.generatorMs / this.machineMs) * 1000) / 10 : 0;
  }
}
