/**
 * What every scenario shares: the run's election and ingest, the worker
 * pools, a once-a-second sampler (CPU of the machine, of ingest and of the
 * generator; progress on stderr), the thresholds, and the report at the end.
 */

import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../aggregator/migrate.js';
import { type Config, loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { ComponentCpu, type CpuReading, costPerThousand } from './component-cost.js';
import { formatPercentiles, percentiles } from './histogram.js';
import { type IngestOptions, IngestUnderTest } from './ingest-process.js';
import { machineCpu, treeUsage } from './proc-stats.js';
import { writeHtml } from './report-html.js';
import { machineInfo, type Report, type StepReport, type Threshold, writeJson } from './report-json.js';
import { newRunId, prepareRunElection, type RunElection, type Template } from './run-election.js';
import { type Second, Timeline } from './timeline.js';
import type { PhaseResult, WorkerPool } from './worker-pool.js';

export interface CommonOptions {
  /** First ingest port; the run uses `ports` consecutive ones. @default 18700 */
  readonly port: number;
  readonly ports: number;
  readonly processes: number;
  /** Write docs/reports/<scenario>.{json,html} (the figures of record). */
  readonly record: boolean;
  readonly quiet: boolean;
  readonly baselines: boolean;
}

export class RunContext {
  readonly config: Config = loadConfig();
  readonly timeline = new Timeline();
  readonly thresholds: Threshold[] = [];
  readonly steps: StepReport[] = [];
  readonly notes: string[] = [];
  readonly setup: Record<string, unknown> = {};
  readonly summary: Record<string, unknown> = {};
  baselines: Record<string, unknown> | null = null;
  ratios: Record<string, number | null> = {};
  correctness: Record<string, unknown> | null = null;
  run: RunElection | null = null;
  ingest: IngestUnderTest | null = null;
  readonly pools: WorkerPool[] = [];
  readonly runId: string;
  private sampler: NodeJS.Timeout | null = null;
  private genCpuTotalMs = 0;
  private machineTotalMs = 0;
  private readonly componentCpu: ComponentCpu;
  private cpuAtIngestStart: CpuReading | null = null;
  private readonly startedAt = Date.now();

  constructor(
    readonly scenario: string,
    readonly options: CommonOptions,
  ) {
    this.runId = newRunId(scenario);
    this.componentCpu = new ComponentCpu(this.config);
    this.setup.loadAverageAtStart = loadavg().map((v) => Math.round(v * 10) / 10);
  }

  log(line: string): void {
    if (!this.options.quiet)
      process.stderr.write(`[loadtest ${this.timeline.now.toFixed(0).padStart(4)}s] ${line}\n`);
  }

  get ports(): number[] {
    return Array.from({ length: this.options.ports }, (_, i) => this.options.port + i);
  }

  async prepare(template: Template, rollSize: number): Promise<RunElection> {
    this.log(`run ${this.runId}: preparing election (${template}, roll ${rollSize})`);
    // A stack brought up by `npm run stack -- up` alone has no ClickHouse schema yet (tests and
    // `npm start` migrate): the correctness check would wait for tables that never fill.
    const migrated = await migrate(this.config, createLogger('loadtest-migrate', 'warn'));
    for (const warning of migrated.warnings) this.log(`migrate: ${warning}`);
    this.run = await prepareRunElection(this.runId, template, rollSize, (l) => this.log(l));
    this.setup.election = {
      id: this.run.index.id,
      template,
      districts: this.run.index.config.districts.length,
      roll: rollSize,
    };
    return this.run;
  }

  async startIngest(options: Omit<IngestOptions, 'ports'>): Promise<IngestUnderTest> {
    this.log(
      `starting ingest: ${options.processes} processes on ports ${this.ports.join(',')}, max in-flight ${options.maxInFlight}/process`,
    );
    this.ingest = await IngestUnderTest.start(this.run!, { ...options, ports: this.ports });
    this.setup.ingest = { ...options, ports: this.ports };
    this.startSampler();
    this.cpuAtIngestStart = this.componentCpu.read(this.ingest.pid, this.genCpuTotalMs);
    return this.ingest;
  }

  /**
   * Once a second: machine CPU from /proc/stat, ingest's and the generator's
   * process trees. A tree's CPU counts from its first sample on, so a worker's
   * start-up (module loading, voter preparation) is not billed to the load.
   */
  private startSampler(): void {
    let lastMachine = machineCpu();
    const lastTree = new Map<number, number>();
    let lastSelf = process.cpuUsage();
    let tick = 0;
    const cores = machineInfo(null).cpus;
    this.sampler = setInterval(() => {
      const machine = machineCpu();
      const workerPids = this.pools.flatMap((p) => p.pids);
      const roots = [this.ingest?.pid ?? -1, ...workerPids];
      const usage = treeUsage(roots);
      const delta = (pid: number, cpuMs: number): number => {
        const before = lastTree.get(pid);
        lastTree.set(pid, cpuMs);
        return before === undefined ? 0 : Math.max(0, cpuMs - before);
      };
      const ingestDelta = delta(roots[0]!, usage[0]?.cpuMs ?? 0);
      let genDelta = 0;
      for (let i = 1; i < roots.length; i++) genDelta += delta(roots[i]!, usage[i]?.cpuMs ?? 0);
      const self = process.cpuUsage(lastSelf);
      lastSelf = process.cpuUsage();
      genDelta += (self.user + self.system) / 1000;
      const span = machine.totalMs - lastMachine.totalMs;
      if (span > 0) {
        // % of one core, as top shows it: the machine's ceiling is cores × 100 %.
        const pct = (v: number): number => Math.round((v / (span / cores)) * 1000) / 10;
        this.genCpuTotalMs += genDelta;
        this.machineTotalMs += span;
        this.timeline.sample({
          machineCpuPct: pct(machine.busyMs - lastMachine.busyMs),
          ingestCpuPct: pct(ingestDelta),
          generatorCpuPct: pct(genDelta),
          ingestRssMb: Math.round((usage[0]?.rssBytes ?? 0) / 2 ** 20),
        });
      }
      lastMachine = machine;
      if (++tick % 5 === 0) this.progress();
    }, 1000);
    this.sampler.unref();
  }

  private progress(): void {
    const s = this.timeline.seconds().slice(-2, -1)[0];
    if (s === undefined) return;
    const sessions = s.sessions === null ? '' : `  sessions ${s.sessions}`;
    this.log(
      `${s.phase || '-'}: offered ${s.offered}/s ok ${s.ok}/s 503 ${s.overloaded}/s failed ${s.failed}/s p99 ${s.p99 ?? '-'} ms${sessions}` +
        `  cpu: machine ${s.machineCpuPct ?? '-'}% ingest ${s.ingestCpuPct ?? '-'}% generator ${s.generatorCpuPct ?? '-'}% (% of one core)`,
    );
  }

  /** Summarises a phase as a step of the report. */
  step(result: PhaseResult, pass: boolean | null): StepReport {
    const step: StepReport = {
      name: result.name,
      targetRate: Math.round(result.rate),
      durationSec: result.durationSec,
      goodput: Math.round(result.counts.ok / result.durationSec),
      counts: result.counts,
      latencyMs: percentiles(result.ok),
      overloadedLatencyMs: percentiles(result.overloaded),
      sendLagMs: percentiles(result.sendLag),
      statuses: result.statuses,
      sampleErrors: result.sampleErrors,
      pass,
    };
    this.steps.push(step);
    const c = result.counts;
    this.log(
      `${step.name}: target ${step.targetRate}/s → ${step.goodput}/s ok, 503 ${c.overloaded}, other ${c.otherStatus}, errors ${c.errors}, timeouts ${c.timeouts}, starved ${c.starved}` +
        `${pass === null ? '' : pass ? '  PASS' : '  FAIL'}\n      ${formatPercentiles(step.latencyMs)}` +
        (result.sampleErrors.length > 0 ? `\n      e.g. ${result.sampleErrors.slice(0, 3).join(' | ')}` : ''),
    );
    return step;
  }

  threshold(name: string, limit: string, value: number | string, pass: boolean): boolean {
    this.thresholds.push({ name, limit, value, pass });
    return pass;
  }

  /** Ends the per-second series (the correctness check's own CPU is not load). */
  stopSampling(): void {
    if (this.sampler !== null) clearInterval(this.sampler);
    this.sampler = null;
  }

  private finishing: Promise<number> | null = null;

  /** Stops everything, writes the reports, prints the verdict first; returns the exit code. Once. */
  finish(): Promise<number> {
    this.finishing ??= this.finishOnce();
    return this.finishing;
  }

  private async finishOnce(): Promise<number> {
    if (this.sampler !== null) clearInterval(this.sampler);
    if (this.ingest !== null && this.cpuAtIngestStart !== null) {
      // Accepted requests of every step, over all the CPU spent while ingest ran (start-up included).
      const accepted = this.steps.reduce((a, s) => a + s.counts.ok, 0);
      const end = this.componentCpu.read(this.ingest.pid, this.genCpuTotalMs);
      this.summary.cpuMsPerThousandAccepted = costPerThousand(this.cpuAtIngestStart, end, accepted);
    }
    for (const pool of this.pools) await pool.stop().catch(() => undefined);
    if (this.ingest !== null) {
      const code = await this.ingest.stop();
      this.setup.ingestExit = code;
    }
    this.summary.cpuAveragePctOfOneCore = averageCpu(this.timeline.seconds());
    this.setup.loadAverageAtEnd = loadavg().map((v) => Math.round(v * 10) / 10);
    const genPct = this.machineTotalMs > 0 ? (this.genCpuTotalMs / this.machineTotalMs) * 100 : 0;
    const cores = machineInfo(null).cpus;
    const lagP99 = Math.max(0, ...this.steps.map((s) => s.sendLagMs.p99));
    const starved = this.steps.reduce((a, s) => a + s.counts.starved, 0);
    const reasons: string[] = [];
    if (genPct > 35) reasons.push(`the generator used ${genPct.toFixed(0)}% of the machine`);
    if (lagP99 > 20) reasons.push(`it sent requests up to ${lagP99} ms late (p99 timer lag)`);
    if (starved > 0) reasons.push(`${starved} arrivals had no request ready`);
    const warning =
      reasons.length === 0
        ? null
        : `WARNING: the load generator may be the bottleneck: ${reasons.join('; ')}. Results are a lower bound.`;
    const verdict = this.thresholds.length > 0 && this.thresholds.every((t) => t.pass) ? 'pass' : 'fail';
    const report: Report = {
      scenario: this.scenario,
      verdict,
      thresholds: this.thresholds,
      runId: this.runId,
      takenAt: new Date(this.startedAt).toISOString(),
      durationSec: Math.round((Date.now() - this.startedAt) / 1000),
      machine: machineInfo(openFilesLimit()),
      setup: this.setup,
      summary: this.summary,
      steps: this.steps,
      baselines: this.baselines,
      ratios: this.ratios,
      correctness: this.correctness,
      generator: {
        cpuPctOfMachine: Math.round(genPct * 10) / 10,
        cpuPctOfOneCore: Math.round(genPct * cores * 10) / 10,
        bottleneck: warning !== null,
        warning,
      },
      notes: this.notes,
      timeline: this.timeline.seconds(),
    };
    const runDir = this.run?.dir ?? join(repoRoot, 'test-output', 'loadtest', 'runs', this.runId);
    writeJson(join(runDir, 'report.json'), report);
    writeHtml(join(runDir, 'report.html'), report);
    const written = [join(runDir, 'report.json'), join(runDir, 'report.html')];
    if (this.options.record) {
      const base = join(repoRoot, 'docs', 'reports', `loadtest-${this.scenario}`);
      writeJson(`${base}.json`, report);
      writeHtml(`${base}.html`, report);
      written.push(`${base}.json`, `${base}.html`);
    }
    printVerdict(report);
    process.stdout.write(`reports: ${written.join('  ')}\n`);
    return verdict === 'pass' ? 0 : 1;
  }
}

/** Mean CPU over the run (% of one core): machine, ingest, generator, and everything else (Kafka, Redis, ClickHouse, other users). */
function averageCpu(seconds: readonly Second[]): Record<string, number> {
  const rows = seconds.filter((s) => s.machineCpuPct !== null);
  const mean = (f: (s: Second) => number): number =>
    rows.length === 0 ? 0 : Math.round(rows.reduce((a, s) => a + f(s), 0) / rows.length);
  return {
    machine: mean((s) => s.machineCpuPct ?? 0),
    ingest: mean((s) => s.ingestCpuPct ?? 0),
    generator: mean((s) => s.generatorCpuPct ?? 0),
    other: mean((s) =>
      Math.max(0, (s.machineCpuPct ?? 0) - (s.ingestCpuPct ?? 0) - (s.generatorCpuPct ?? 0)),
    ),
  };
}

function openFilesLimit(): number | null {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

/** Thresholds and verdict first, then the figures. */
export function printVerdict(report: Report): void {
  const lines = [
    `\n== loadtest ${report.scenario}: ${report.verdict.toUpperCase()} (run ${report.runId}) ==`,
  ];
  for (const t of report.thresholds) {
    lines.push(
      `  ${t.pass ? 'ok  ' : 'FAIL'}  ${t.name.padEnd(46)} ${String(t.value).padStart(12)}   (${t.limit})`,
    );
  }
  if (report.generator.warning !== null) lines.push(`  ${report.generator.warning}`);
  lines.push(
    `  generator CPU: ${report.generator.cpuPctOfMachine}% of the machine (${report.generator.cpuPctOfOneCore}% of one core)`,
  );
  for (const s of report.steps) {
    const l = s.latencyMs;
    lines.push(
      `  ${s.name.padEnd(18)} ${String(s.targetRate).padStart(6)}/s → ${String(s.goodput).padStart(6)}/s ok  ` +
        `p50 ${l.p50}  p90 ${l.p90}  p95 ${l.p95}  p99 ${l.p99}  p99.9 ${l.p999} ms` +
        (s.counts.overloaded > 0 ? `  503×${s.counts.overloaded} (p99 ${s.overloadedLatencyMs.p99} ms)` : ''),
    );
  }
  for (const [k, v] of Object.entries(report.ratios)) lines.push(`  ratio ${k}: ${v ?? 'n/a'}`);
  const cost = report.summary.cpuMsPerThousandAccepted as Record<string, number> | undefined;
  if (cost !== undefined) {
    const parts = Object.entries(cost).map(([k, v]) => `${k} ${v}`);
    lines.push(`  CPU ms per 1,000 accepted: ${parts.join(', ')}`);
  }
  for (const n of report.notes) lines.push(`  note: ${n}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
