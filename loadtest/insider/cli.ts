/**
 * `npm run insider -- [--short] [options]`: the insider attack harness
 * (issue 14). Real voters vote with peak and off-peak arrivals and a think
 * time; then an insider who reads every store tries to link target voters
 * to their ballots, against the chance the mixing promise allows, and scans
 * every store for what must never be stored (loadtest/README.md).
 *
 * Exit code: 0 when every verdict holds, 1 when one fails or the run broke,
 * 2 on usage errors, 130 when interrupted.
 */
import { join } from 'node:path';
import { loadConfig } from '../../common/config.js';
import { repoRoot } from '../../common/paths.js';
import { type InsiderOptions, parseOptions, USAGE, UsageError } from './options.js';
import { printInsiderVerdict, writeInsiderHtml, writeInsiderJson } from './report.js';
import { type InsiderReport, InsiderRun, systemMix } from './run.js';

async function main(argv: readonly string[]): Promise<number> {
  let options: InsiderOptions | 'help';
  try {
    options = parseOptions(argv, systemMix(loadConfig()));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const run = new InsiderRun(options);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      run.log(`${signal}: stopping what the run started`);
      void run.cleanUp().finally(() => process.exit(130));
    });
  }
  let report: InsiderReport;
  try {
    await run.prepare();
    await run.load();
    await run.settle();
    report = { ...(await run.judge()), durationSec: run.elapsedSec() };
  } catch (err) {
    process.stderr.write(`the run broke: ${(err as Error).stack ?? err}\n`);
    await run.cleanUp();
    return 1;
  }
  await run.cleanUp();
  const written = [join(run.dir, 'report.json'), join(run.dir, 'report.html')];
  writeInsiderJson(written[0]!, report);
  writeInsiderHtml(written[1]!, report);
  if (options.record) {
    const base = join(repoRoot, 'docs', 'reports', 'insider');
    writeInsiderJson(`${base}.json`, report);
    writeInsiderHtml(`${base}.html`, report);
    written.push(`${base}.json`, `${base}.html`);
  }
  printInsiderVerdict(report, (text) => process.stdout.write(text));
  process.stdout.write(`reports: ${written.join('  ')}\n`);
  return report.verdict === 'pass' ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
