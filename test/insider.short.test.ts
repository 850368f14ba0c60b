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
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import { testPort } from './support/ports.js';

/** The short run takes about 2 minutes on a quiet 2-core box; a loaded one gets some slack. */
const BUDGET_MS = 300_000;

describe('insider --short', () => {
  it(
    'links no target to its ballot better than chance, and no store holds what links',
    async () => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'loadtest/insider/cli.ts',
          '--short',
          '--quiet',
          '--port',
          String(testPort(18_950)),
        ],
        { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      // SIGTERM stops what the run started before the budget runs out.
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
