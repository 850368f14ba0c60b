/**
 * One run = one forked child (child.ts) doing one job. Before it, the
 * brokers' pids are read again (a shared stack may have been restarted) and
 * their idle CPU is sampled for a few seconds while the benchmark sends
 * nothing; around it, the machine's load average is recorded.
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildAnswer, Job, ProduceResult, ReadResult } from './jobs.js';
import type { LeaderSpread } from './topic.js';
import { brokerPids, idleBrokerCores } from './usage.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');
/** How long the brokers' idle CPU is sampled before each run. */
const IDLE_SAMPLE_MS = 3000;

export interface Run {
  readonly phase: string;
  readonly configuration: string;
  readonly round: number;
  /** Place in this round's order (rounds alternate forward and reversed). */
  readonly position: number;
  readonly loadAverage: { readonly before: number[]; readonly after: number[] };
  readonly brokerPids: readonly number[];
  /** Partitions led per broker when the run started (after `preferLeaders`). */
  readonly leaders: LeaderSpread | null;
  /**
   * The brokers' pids changed during the run, or one of them was not running
   * (someone stopped or restarted the shared stack): the run does not count.
   */
  readonly brokersRestarted: boolean;
  /** Brokers' CPU (cores) over the few seconds before the run, with the benchmark idle. */
  readonly brokerIdleCores: number | null;
  readonly result: ProduceResult | ReadResult | null;
  readonly error: string | null;
}

/** Forks child.ts for one job; kills it (by its own pid) if it outlives `limitSec`. */
function runChild(job: Job, limitSec: number): Promise<ChildAnswer> {
  return new Promise((resolve) => {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let answer: ChildAnswer | null = null;
    const killer = setTimeout(() => child.kill('SIGKILL'), limitSec * 1000);
    child.on('message', (m: ChildAnswer) => {
      answer = m;
    });
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      resolve(
        answer ?? { ok: false, error: `child exited (code ${code}, signal ${signal}) without an answer` },
      );
    });
    child.send(job);
  });
}

export interface RunSpec {
  readonly phase: string;
  readonly configuration: string;
  readonly round: number;
  readonly position: number;
  readonly stackDir: string;
  /** How many brokers the stack has (their pid files). */
  readonly brokerCount: number;
  /** The job without broker pids: they are read just before the run. */
  readonly job: Job;
  readonly limitSec: number;
  readonly leaders: LeaderSpread | null;
}

export async function measureRun(spec: RunSpec): Promise<Run> {
  const pids = brokerPids(spec.stackDir);
  const brokerIdleCores = await idleBrokerCores(pids, IDLE_SAMPLE_MS);
  const before = loadavg();
  const answer = await runChild({ ...spec.job, brokerPids: pids }, spec.limitSec);
  const after = brokerPids(spec.stackDir);
  return {
    phase: spec.phase,
    configuration: spec.configuration,
    round: spec.round,
    position: spec.position,
    loadAverage: { before, after: loadavg() },
    brokerPids: pids,
    leaders: spec.leaders,
    brokersRestarted:
      after.length !== pids.length ||
      after.some((p, i) => p !== pids[i]) ||
      (pids.length > 0 && pids.length < spec.brokerCount),
    brokerIdleCores,
    result: answer.ok ? answer.result : null,
    error: answer.ok ? null : answer.error,
  };
}

const fixed = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? '—' : v.toFixed(digits);

/** One progress line per run. */
export function describeRun(run: Run): string {
  const leaders =
    run.leaders === null
      ? ''
      : `, leaders ${Object.entries(run.leaders.byNode)
          .map(([node, n]) => `${node}:${n}`)
          .join(' ')}`;
  const load = `load ${fixed(run.loadAverage.before[0], 2)}→${fixed(run.loadAverage.after[0], 2)}${leaders}`;
  let line: string;
  if (run.result === null) line = `FAILED: ${run.error?.split('\n')[0]}`;
  else if (run.result.kind === 'produce') {
    const r = run.result;
    const latency =
      r.latencyMs === null ? '' : `  p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms`;
    line =
      `${Math.round(r.recordsPerSec)} rec/s${latency}  cpu ${fixed(r.cpuMsPer1000)} ms/1k` +
      `  brokers ${fixed(r.brokerCpuMsPer1000, 0)} ms/1k (idle ${fixed(run.brokerIdleCores, 2)} cores)` +
      `  batch ${r.meanBatch}  failed ${r.failed}${r.firstError === null ? '' : ` (${r.firstError})`}`;
  } else {
    const r = run.result;
    line =
      `${r.records} records  ${Math.round(r.recordsPerSec)} rec/s  start-up ${Math.round(r.startupMs)} ms` +
      `  cpu ${fixed(r.cpuMsPer1000)} ms/1k  brokers ${fixed(r.brokerCpuMsPer1000)} ms/1k`;
  }
  const restarted = run.brokersRestarted ? '  BROKERS RESTARTED DURING THE RUN: discarded' : '';
  return `[round ${run.round + 1}] ${run.phase.padEnd(10)} ${run.configuration.padEnd(24)} ${line}  (${load})${restarted}`;
}
