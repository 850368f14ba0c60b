/**
 * `npm run chaos -- [--short] [options]`: the fault harness (issue 13).
 * Real voters cast while a nemesis kills, freezes and wipes parts of the
 * system; then the checker proves, by sets of receipts and voters, what held.
 *
 * Exit code: 0 when every verdict holds, 1 when one fails or the run broke,
 * 2 on usage errors, 130 when interrupted.
 */
import { join, resolve } from 'node:path';
import { repoRoot } from '../../common/paths.js';
import { type ChaosOptions, parseOptions, USAGE, UsageError } from './options.js';
import { PlanError } from './plan.js';
import { recheck } from './recheck.js';
import { type ChaosReport, printChaosVerdict, writeChaosJson } from './report.js';
import { writeChaosHtml } from './report-html.js';
import { ChaosRun } from './run.js';

async function main(argv: readonly string[]): Promise<number> {
  let options: ChaosOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.recheck !== null) {
    const dir = resolve(options.recheck);
    const report = await recheck(dir);
    return write(report, dir, options.record);
  }
  const run = new ChaosRun(options);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      run.log(`${signal}: healing the stack and stopping`);
      void run.cleanUp().finally(() => process.exit(130));
    });
  }
  let verdicts: Awaited<ReturnType<ChaosRun['check']>> = [];
  try {
    await run.phase('prepare', () => run.prepare());
    await run.phase('load', () => run.load());
    await run.phase('settle', () => run.settle());
    verdicts = await run.phase('check', () => run.check());
  } catch (err) {
    if (err instanceof PlanError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    run.notes.push(`the run broke: ${(err as Error).message.slice(0, 500)}`);
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
  } finally {
    await run.cleanUp();
  }
  return write(run.report(verdicts), run.dir, options.record);
}

/** Writes the run's report (and the figure of record with --record), prints the verdicts; the exit code. */
function write(report: ChaosReport, dir: string, record: boolean): number {
  const written = [join(dir, 'report.json'), join(dir, 'report.html')];
  writeChaosJson(written[0]!, report);
  writeChaosHtml(written[1]!, report);
  if (record) {
    const base = join(repoRoot, 'docs', 'reports', 'chaos');
    writeChaosJson(`${base}.json`, report);
    writeChaosHtml(`${base}.html`, report);
    written.push(`${base}.json`, `${base}.html`);
  }
  printChaosVerdict(report, (text) => process.stdout.write(text));
  process.stdout.write(`reports: ${written.join('  ')}\n`);
  return report.verdict === 'pass' ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
