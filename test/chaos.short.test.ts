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
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import { testPort } from './support/ports.js';

/** The short run takes under 3 minutes on a quiet 2-core box; a loaded one gets some slack. */
const BUDGET_MS = 330_000;

interface VerdictLine {
  readonly id: string;
  readonly pass: boolean;
  readonly violations: Record<string, { count: number; ids: string[] }>;
}

describe('chaos --short', () => {
  it(
    'keeps every promise while one fault of each kind is injected',
    async () => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'loadtest/chaos/cli.ts',
          '--short',
          '--quiet',
          '--port',
          String(testPort(18_900)),
        ],
        {
          cwd: repoRoot,
          env: { ...process.env, LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      // SIGTERM heals the stack (no frozen or stopped service is left) before the budget runs out.
      const guard = setTimeout(() => child.kill('SIGTERM'), BUDGET_MS - 30_000);
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
      const failed = (report.verdicts as VerdictLine[])
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
