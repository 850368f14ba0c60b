/**
 * Runs one of the report-writing CLIs (loadtest, chaos, insider) the way a
 * developer would, and reads the JSON report it names on its last lines
 * (`reports: <path>report.json`). The CLI gets SIGTERM `stopBeforeMs` before
 * the test's budget ends, so it stops what it started (ingest, workers,
 * frozen services) and still writes its report.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoRoot } from '../../common/paths.js';

export interface ReportRun<R> {
  readonly code: number | null;
  /** stdout and stderr, interleaved: the message of a failed expectation. */
  readonly output: string;
  /** The parsed report, of the shape the caller reads (unchecked); null when the CLI named none. */
  readonly report: R | null;
}

export async function runReportCli<R>(
  script: string,
  args: readonly string[],
  budget: { readonly budgetMs: number; readonly stopBeforeMs: number },
): Promise<ReportRun<R>> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGTERM'), budget.budgetMs - budget.stopBeforeMs);
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(guard);
  const reportPath = /reports: (\S+report\.json)/.exec(output)?.[1];
  const report = reportPath === undefined ? null : (JSON.parse(readFileSync(reportPath, 'utf8')) as R);
  return { code, output, report };
}
