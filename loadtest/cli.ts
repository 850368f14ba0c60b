/**
 * `npm run loadtest -- <scenario> [options]`
 *
 *   smoke        30-second small version of everything (CI)
 *   throughput   max sustained cast rate (p99 < 250 ms, 0 errors), stepped
 *   issuance     the same for credentials
 *   overload     3× the measured max for 60 s: no crash, fast 503s, goodput ≥ 90 %, recovery
 *   sessions     ≥ 100,000 WebSocket sessions held 5 min while ≥ 1,000 ballots/s are cast
 *   abuse        steady casts alone, then with a flood of identical issuance retries and slow bodies:
 *                cast p99 must not move (≤ 1.2× + 5 ms)
 *   paper        the paper day: station-sized check-in bursts alongside online voting, both holding
 *                the step rule; check-ins checked voter by voter against the log
 *   observers    1,000 observers on the publisher's live feed while casts run: commission actions and
 *                turnout changes reach every observer within 5 s at p99; cast p99 against casts alone
 *
 * Exit code: 0 when every threshold holds, 1 when one fails, 2 on usage errors.
 */
import { availableParallelism } from 'node:os';
import { type CommonOptions, RunContext } from './run-context.js';
import { ABUSE_DEFAULTS, abuseScenario } from './scenarios/abuse.js';
import { MIXING_DEFAULTS, mixingScenario } from './scenarios/mixing.js';
import { OBSERVERS_DEFAULTS, observersScenario } from './scenarios/observers.js';
import { overloadScenario } from './scenarios/overload.js';
import { PAPER_DEFAULTS, paperScenario } from './scenarios/paper.js';
import { sessionsScenario } from './scenarios/sessions.js';
import { smokeScenario } from './scenarios/smoke.js';
import { THROUGHPUT_DEFAULTS, throughputScenario } from './scenarios/throughput.js';

const USAGE = `usage: npm run loadtest -- <smoke|throughput|issuance|overload|sessions|mixing|abuse|paper|observers> [options]

common:   --port N (18700) --ports N --processes N --record (write docs/reports/) --no-baselines --quiet
throughput/issuance: --start R --factor F --step-sec S --max-steps N --workers N --max-in-flight N --min-rate R
overload: --max R (default: docs/reports/loadtest-throughput.json) --burst-sec S --factor 3 --max-in-flight N
sessions: --sessions N (100000) --hold-sec S (300) --cast-rate R (1050) --ramp R (2000/s) --holders N
mixing:   --pairs k:T,… (1:0,4:500,8:1000,8:2500,16:2500) --rates R,… (3,9,300) --phase-sec S (30)
abuse:    --cast-rate R (500) --phase-sec S (30) --retry-rate R (1000) --tokens N (200) --slow-sockets N (1000)
          --max-ratio F (1.2) --slack-ms MS (5) --shed-slack FRACTION (0.01)
paper:    --stations N (50) --per-station N (600) --duration-sec S (600) --cast-rate R (300) --alone-sec S (60)
observers: --observers N (1000) --cast-rate R (300) --alone-sec S (60) --with-sec S (120) --actions N (3)
          --ramp R (200/s) --publisher-port N (port + 95)
`;

function parse(argv: readonly string[]): { scenario: string; flags: Map<string, string> } {
  const [scenario, ...rest] = argv;
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = rest[i + 1];
    if (next === undefined || next.startsWith('--')) flags.set(a.slice(2), 'true');
    else {
      flags.set(a.slice(2), next);
      i++;
    }
  }
  return { scenario: scenario ?? '', flags };
}

export class Flags {
  private readonly used = new Set<string>();
  constructor(private readonly flags: Map<string, string>) {}

  num(name: string, fallback: number): number {
    this.used.add(name);
    const v = this.flags.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  }

  /** A comma-separated list of numbers, or of `a:b` pairs of numbers. */
  list(name: string, fallback: string): number[][] {
    this.used.add(name);
    return (this.flags.get(name) ?? fallback).split(',').map((item) => {
      const parts = item.split(':').map(Number);
      if (parts.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`--${name}: bad item "${item}"`);
      return parts;
    });
  }

  bool(name: string): boolean {
    this.used.add(name);
    return this.flags.get(name) === 'true';
  }

  unknown(): string[] {
    return [...this.flags.keys()].filter((k) => !this.used.has(k));
  }
}

async function main(): Promise<number> {
  const { scenario, flags: raw } = parse(process.argv.slice(2));
  const flags = new Flags(raw);
  const isSessions = scenario === 'sessions';
  const common: CommonOptions = {
    port: flags.num('port', 18700),
    ports: flags.num('ports', isSessions ? 8 : 2),
    processes: flags.num('processes', isSessions ? 8 : availableParallelism()),
    record: flags.bool('record'),
    quiet: flags.bool('quiet'),
    baselines: !flags.bool('no-baselines'),
  };
  const ctx = new RunContext(scenario, common);
  const run = async (): Promise<void> => {
    switch (scenario) {
      case 'smoke':
        return smokeScenario(ctx);
      case 'throughput':
      case 'issuance': {
        const d = THROUGHPUT_DEFAULTS[scenario === 'throughput' ? 'cast' : 'issue'];
        return throughputScenario(ctx, {
          ...d,
          start: flags.num('start', d.start),
          factor: flags.num('factor', d.factor),
          stepSec: flags.num('step-sec', d.stepSec),
          maxSteps: flags.num('max-steps', d.maxSteps),
          workers: flags.num('workers', d.workers),
          maxInFlight: flags.num('max-in-flight', d.maxInFlight),
          minRate: flags.num('min-rate', d.minRate),
        });
      }
      case 'overload':
        return overloadScenario(ctx, {
          max: flags.num('max', 0),
          factor: flags.num('factor', 3),
          burstSec: flags.num('burst-sec', 60),
          recoverySec: flags.num('recovery-sec', 20),
          maxInFlight: flags.num('max-in-flight', 0),
          workers: flags.num('workers', 2),
        });
      case 'sessions':
        return sessionsScenario(ctx, {
          sessions: flags.num('sessions', 100_000),
          holdSec: flags.num('hold-sec', 300),
          castRate: flags.num('cast-rate', 1050),
          rampPerSec: flags.num('ramp', 2000),
          holders: flags.num('holders', 0),
          minCastRate: flags.num('min-cast-rate', 1000),
        });
      case 'mixing': {
        const d = MIXING_DEFAULTS;
        const pairs = flags.list('pairs', d.pairs.map(([k, t]) => `${k}:${t}`).join(','));
        if (pairs.some((p) => p.length !== 2)) throw new UsageError('--pairs takes k:T items');
        return mixingScenario(ctx, {
          ...d,
          pairs: pairs.map(([k, t]) => [k!, t!] as const),
          rates: flags.list('rates', d.rates.join(',')).map(([r]) => r!),
          phaseSec: flags.num('phase-sec', d.phaseSec),
        });
      }
      case 'abuse':
        return abuseScenario(ctx, {
          castRate: flags.num('cast-rate', ABUSE_DEFAULTS.castRate),
          phaseSec: flags.num('phase-sec', ABUSE_DEFAULTS.phaseSec),
          retryRate: flags.num('retry-rate', ABUSE_DEFAULTS.retryRate),
          tokens: flags.num('tokens', ABUSE_DEFAULTS.tokens),
          slowSockets: flags.num('slow-sockets', ABUSE_DEFAULTS.slowSockets),
          maxRatio: flags.num('max-ratio', ABUSE_DEFAULTS.maxRatio),
          slackMs: flags.num('slack-ms', ABUSE_DEFAULTS.slackMs),
          shedSlack: flags.num('shed-slack', ABUSE_DEFAULTS.shedSlack),
        });
      case 'paper':
        await paperScenario(ctx, {
          stations: flags.num('stations', PAPER_DEFAULTS.stations),
          perStation: flags.num('per-station', PAPER_DEFAULTS.perStation),
          durationSec: flags.num('duration-sec', PAPER_DEFAULTS.durationSec),
          castRate: flags.num('cast-rate', PAPER_DEFAULTS.castRate),
          aloneSec: flags.num('alone-sec', PAPER_DEFAULTS.aloneSec),
        });
        return;
      case 'observers':
        return observersScenario(ctx, {
          observers: flags.num('observers', OBSERVERS_DEFAULTS.observers),
          castRate: flags.num('cast-rate', OBSERVERS_DEFAULTS.castRate),
          aloneSec: flags.num('alone-sec', OBSERVERS_DEFAULTS.aloneSec),
          withSec: flags.num('with-sec', OBSERVERS_DEFAULTS.withSec),
          actions: flags.num('actions', OBSERVERS_DEFAULTS.actions),
          rampPerSec: flags.num('ramp', OBSERVERS_DEFAULTS.rampPerSec),
          publisherPort: flags.num('publisher-port', common.port + 95),
        });
      default:
        throw new UsageError(`unknown scenario "${scenario}"`);
    }
  };
  // Interrupted (Ctrl-C, a CI timeout): stop ingest and the workers, write what we have.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      ctx.threshold('scenario ran to the end', 'not interrupted', signal, false);
      void ctx.finish().then(() => process.exit(130));
    });
  }
  try {
    await run();
    const extra = flags.unknown();
    if (extra.length > 0) ctx.notes.push(`ignored options: ${extra.join(', ')}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}`);
      return 2;
    }
    ctx.threshold('scenario ran to the end', 'no error', (err as Error).message.slice(0, 300), false);
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    if (ctx.ingest !== null) process.stderr.write(`ingest log (tail):\n${ctx.ingest.log.slice(-3000)}\n`);
  }
  return ctx.finish();
}

class UsageError extends Error {}

process.exitCode = await main();
