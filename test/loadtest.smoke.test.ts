/**
 * `npm run loadtest -- smoke` passes: a small version of every load
 * scenario (cast and issuance steps, sessions with casting, an overload
 * burst, an abuse flood, real-path voters) ends with every threshold met and the
 * correctness check (receipts = Kafka = ClickHouse = tally) passing.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import { testPort } from './support/ports.js';

const SMOKE_BUDGET_MS = 60_000;

describe('loadtest smoke', () => {
  it(
    'runs every scenario in small and passes every threshold',
    async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'loadtest/cli.ts', 'smoke', '--quiet', '--port', String(testPort(18_700))],
        {
          cwd: repoRoot,
          env: { ...process.env, LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      // Leave time to stop ingest and the workers if the budget runs out.
      const guard = setTimeout(() => child.kill('SIGTERM'), SMOKE_BUDGET_MS - 5_000);
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
      expect(reportPath, output).toBeDefined();
      const report = JSON.parse(readFileSync(reportPath!, 'utf8'));
      const failed = report.thresholds.filter((t: { pass: boolean }) => !t.pass);
      expect(failed, output).toEqual([]);
      expect(report.correctness.ok, output).toBe(true);
      expect(report.correctness.lost).toBe(0);
      expect(report.correctness.extra).toBe(0);
      expect(code, output).toBe(0);
    },
    SMOKE_BUDGET_MS,
  );
});
