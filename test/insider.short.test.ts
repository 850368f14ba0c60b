/**
 * `npm run insider -- --short` holds: a small election (2 regions, 3
 * districts, 1,500 real voters with peak and off-peak arrivals and a think
 * time between credential and cast), then an insider who reads Redis, Kafka,
 * ClickHouse, the logs, /metrics and the public files, and knows when every
 * target got their credential or cast, links no better than the mixing
 * promise's chance allows; and no store holds a member id, a voterHash next
 * to a ballotId, a client address next to either, or a sub-minute time next
 * to a ballot.
 *
 * It fails when any verdict fails (each is in the message).
 */
import { describe, expect, it } from 'vitest';
import { testPort } from './support/ports.js';
import { runReportCli } from './support/report-cli.js';

/** The short run takes about 2 minutes on a quiet 2-core box; a loaded one gets some slack. */
const BUDGET_MS = 300_000;

interface InsiderReport {
  readonly attacks: readonly { readonly pass: boolean }[];
  readonly scans: readonly { readonly pass: boolean }[];
  readonly voters: { readonly targets: number };
}

describe('insider --short', () => {
  it(
    'links no target to its ballot better than chance, and no store holds what links',
    async () => {
      const {
        code,
        output,
        report: read,
      } = await runReportCli<InsiderReport>(
        'loadtest/insider/cli.ts',
        ['--short', '--quiet', '--port', String(testPort(18_950))],
        {
          budgetMs: BUDGET_MS,
          stopBeforeMs: 30_000,
        },
      );
      expect(read, output).not.toBeNull();
      const report = read!;
      const failed = [
        ...report.attacks.filter((a: { pass: boolean }) => !a.pass),
        ...report.scans.filter((s: { pass: boolean }) => !s.pass),
      ];
      expect(failed, output).toEqual([]);
      expect(report.voters.targets).toBeGreaterThan(1000);
      expect(code).toBe(0);
    },
    BUDGET_MS,
  );
});
