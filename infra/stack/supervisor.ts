/**
 * Starts stack processes detached, remembers them by pid file, and stops
 * only what it started: a pid is ours only while its command line still
 * contains the marker (a path under `.stack/`), so a recycled pid belonging
 * to someone else is never signalled.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly pidFile: string;
  readonly logFile: string;
}

/** Reads a pid file; `null` if absent or garbage. */
export function readPid(pidFile: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The pid recorded in `pidFile` if that process is alive and still ours. */
export function runningPid(pidFile: string, marker: string): number | null {
  const pid = readPid(pidFile);
  if (pid === null) return null;
  const cmd = commandLine(pid);
  if (cmd === null || !cmd.includes(marker) || isZombie(pid)) return null;
  return pid;
}

/** Spawns a detached process writing to its log file and records its pid. */
export function launch(spec: LaunchSpec): number {
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
  child.unref();
  writeFileSync(spec.pidFile, `${child.pid}\n`);
  return child.pid;
}

/**
 * Signals the recorded process and waits for it to exit; escalates to
 * SIGKILL after `graceMs`. Removes the pid file. Returns whether it was running.
 */
export async function terminate(
  pidFile: string,
  marker: string,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 20_000,
): Promise<boolean> {
  const pid = runningPid(pidFile, marker);
  if (pid === null) {
    rmSync(pidFile, { force: true });
    return false;
  }
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (runningPid(pidFile, marker) !== null) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(200);
      break;
    }
    await sleep(100);
  }
  rmSync(pidFile, { force: true });
  return true;
}

/** Polls `probe` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}
