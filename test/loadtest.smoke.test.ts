/**
 * `npm run loadtest -- smoke` passes: a small version of every load
 * scenario (cast and issuance steps, sessions with casting, an overload
 * burst, an abuse flood, real-path voters) ends with every threshold met and the
 * correctness check (receipts = Kafka = ClickHouse = tally) passing.
 */
import { describe, expect, it } from 'vitest';
import { testPort } from './support/ports.js';
import { runReportCli } from './support/report-cli.js';

const SMOKE_BUDGET_MS = 60_000;

interface SmokeReport {
  readonly thresholds: readonly { readonly pass: boolean }[];
  readonly correctness: { readonly ok: boolean; readonly lost: number; readonly extra: number };
}

describe('loadtest smoke', () => {
  it(
    'runs every scenario in small and passes every threshold',
    async () => {
      const {
        code,
        output,
        report: read,
      } = await runReportCli<SmokeReport>(
        'loadtest/cli.ts',
        ['smoke', '--quiet', '--port', String(testPort(18_700))],
        {
          budgetMs: SMOKE_BUDGET_MS,
          stopBeforeMs: 5_000,
        },
      );
      expect(read, output).not.toBeNull();
      const report = read!;
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
