/**
 * `npm run chaos -- --recheck <run dir>`: judges a finished run again from
 * its history files, the log and ClickHouse as they are now, and the run's
 * published files, keeping what only the run knew (faults, operator
 * actions, series). For a checker that changed since, or to look again once
 * the stack has settled further. The election's records must still be there.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../common/config.js';
import { attribute } from './check/attribution.js';
import { indexHistory } from './check/history-index.js';
import { check } from './check/verdicts.js';
import { readElectionLog } from './observe/kafka-log.js';
import { readCounted, readSnapshot } from './observe/published.js';
import type { ChaosReport } from './report.js';

export async function recheck(dir: string): Promise<ChaosReport> {
  const old = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ChaosReport;
  const election = (old.setup.election as { id?: string } | undefined)?.id;
  if (election === undefined) throw new Error(`${dir}/report.json names no election`);
  const config = loadConfig();
  const files = (await readdir(dir)).filter((f) => /^history-\d+\.jsonl$/.test(f)).map((f) => join(dir, f));
  const [history, log, counted, snapshot] = await Promise.all([
    indexHistory(files),
    readElectionLog(config, election),
    readCounted(config, election),
    readSnapshot(join(dir, 'public')),
  ]);
  const seen = old.observed.snapshot as { seq?: number; fresh?: boolean } | null | undefined;
  const verdicts = check({
    history,
    log,
    counted,
    snapshot,
    snapshotFresh: seen?.fresh === true && snapshot?.seq === seen.seq,
    operatorActions: old.operatorActions.map((a) => `at ${a.atSec} s: ${a.action}`),
  });
  return {
    ...old,
    verdict: verdicts.every((v) => v.pass) ? 'pass' : 'fail',
    verdicts,
    attribution: attribute(verdicts, history, old.faults),
    notes: [
      ...old.notes,
      `rechecked ${new Date().toISOString()} from the run's files and the stack as it was then`,
    ],
  };
}
