/**
 * A fresh election per run, so counts are exact and runs never collide:
 *
 *   test-output/loadtest/runs/<runId>/
 *   ├─ <runId>.json            copy of a template config (sample or tiny) with id = runId
 *   ├─ keys/<runId>/…           the run's keys (STACK_DIR of the run's ingest)
 *   └─ public/                  manifest (PUBLIC_DIR of the run's ingest)
 *
 * The keys are a copy of a per-machine key set (`test-output/loadtest/keysets/<template>/`),
 * made once: RSA key generation is slow (≈ 13 s for the sample's 60 districts) and
 * pre-signed credentials (`credentials.ts`) are valid only under these keys. Every run
 * still has its own election id, dedup keys, roll and Kafka records.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../common/config.js';
import { repoRoot } from '../common/paths.js';
import {
  type ElectionIndex,
  type ElectionKeys,
  loadElection,
  readKeys,
  recordLogStart,
} from '../election/index.js';

const run = promisify(execFile);

export type Template = 'sample' | 'tiny';

export const loadtestDir = join(repoRoot, 'test-output', 'loadtest');

export interface RunElection {
  readonly runId: string;
  readonly dir: string;
  /** STACK_DIR for the run's ingest and election CLI: keys live in `<stackDir>/keys/<runId>`. */
  readonly stackDir: string;
  readonly publicDir: string;
  readonly path: string;
  readonly index: ElectionIndex;
  readonly keys: ElectionKeys;
  readonly template: Template;
  /** Where this template's key set and credential cache live. */
  readonly keysetDir: string;
}

export function newRunId(scenario: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `lt-${scenario}-${t}-${Math.random().toString(36).slice(2, 6)}`;
}

async function electionCli(args: string[], env: Record<string, string>): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', 'election/cli.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function templateConfig(template: Template): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(repoRoot, 'election', 'configs', `${template}.json`), 'utf8'));
}

/** Makes (once) the template's key set: `keysetDir/keys/keyset-<template>/`. */
export async function ensureKeyset(template: Template, log: (line: string) => void): Promise<string> {
  const keysetDir = join(loadtestDir, 'keysets', template);
  const id = `keyset-${template}`;
  const path = join(keysetDir, `${id}.json`);
  await mkdir(keysetDir, { recursive: true });
  try {
    await readKeys(keysetDir, id);
    return keysetDir;
  } catch {
    log(`making the ${template} key set once (RSA keys for every district) in ${keysetDir}`);
  }
  const config = { ...(await templateConfig(template)), id, sampleRoll: { seed: id, size: 1000 } };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  await electionCli(['keys', path], { STACK_DIR: keysetDir });
  return keysetDir;
}

/**
 * Writes the run's config (open now, a sample roll of `rollSize`), copies the key
 * set in, and runs `election init` (manifest, roll into Redis) against it.
 */
export async function prepareRunElection(
  runId: string,
  template: Template,
  rollSize: number,
  log: (line: string) => void,
): Promise<RunElection> {
  const keysetDir = await ensureKeyset(template, log);
  const dir = join(loadtestDir, 'runs', runId);
  const stackDir = dir;
  const publicDir = join(dir, 'public');
  await mkdir(publicDir, { recursive: true });
  const config = {
    ...(await templateConfig(template)),
    id: runId,
    opens: '2020-01-01T00:00:00Z',
    closes: '2099-12-31T23:59:59Z',
    sampleRoll: { seed: runId, size: rollSize },
  };
  const path = join(dir, `${runId}.json`);
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  await cp(join(keysetDir, 'keys', `keyset-${template}`), join(stackDir, 'keys', runId), {
    recursive: true,
  });
  // The keys are copied, not made, so `init` cannot tell the election is new: say where it begins,
  // or ingest would read the shared topics from their start to build its index.
  await recordLogStart(loadConfig({ ...process.env, STACK_DIR: stackDir }), runId);
  await electionCli(['init', path], { STACK_DIR: stackDir, PUBLIC_DIR: publicDir });
  const index = loadElection(path);
  const keys = await readKeys(stackDir, runId);
  return { runId, dir, stackDir, publicDir, path, index, keys, template, keysetDir };
}
