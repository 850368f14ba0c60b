/**
 * `npm run chaos -- --short` holds: a few thousand real voters (login, blind,
 * credential, cast, retrying like the web client) while the nemesis injects
 * one fault of each kind, and the checker finds, by sets of receipts and
 * voters, every acknowledged ballot counted once, nothing counted that was
 * refused or never sent, no credential counted twice, no voter with two
 * credentials, and the published tally equal to the one recomputed from Kafka.
 *
 * It fails when any verdict fails (the report's violations are in the message).
 */
import { describe, expect, it } from 'vitest';
import { testPort } from './support/ports.js';
import { runReportCli } from './support/report-cli.js';

/** The short run takes under 3 minutes on a quiet 2-core box; a loaded one gets some slack. */
const BUDGET_MS = 330_000;

interface VerdictLine {
  readonly id: string;
  readonly pass: boolean;
  readonly violations: Record<string, { count: number; ids: string[] }>;
}

interface ChaosReport {
  readonly verdicts: readonly VerdictLine[];
  readonly faults: readonly { readonly kind: string; readonly startSec: number | null }[];
  readonly options: { readonly kinds: readonly string[] };
}

describe('chaos --short', () => {
  it(
    'keeps every promise while one fault of each kind is injected',
    async () => {
      const {
        code,
        output,
        report: read,
      } = await runReportCli<ChaosReport>(
        'loadtest/chaos/cli.ts',
        ['--short', '--quiet', '--port', String(testPort(18_900))],
        {
          budgetMs: BUDGET_MS,
          stopBeforeMs: 30_000,
        },
      );
      expect(read, output).not.toBeNull();
      const report = read!;
      const failed = report.verdicts
        .filter((v) => !v.pass)
        .map((v) => ({
          id: v.id,
          violations: Object.fromEntries(Object.entries(v.violations).map(([k, l]) => [k, l.count])),
        }));
      expect(failed, output).toEqual([]);
      expect(report.verdicts).toHaveLength(8);
      const ran = new Set(
        (report.faults as { kind: string; startSec: number | null }[])
          .filter((f) => f.startSec !== null)
          .map((f) => f.kind),
      );
      expect(ran.size, 'one fault of each kind ran').toBe(report.options.kinds.length);
      expect(code, output).toBe(0);
    },
    BUDGET_MS,
  );
});
