/**
 * What the machine and the processes under test use, from /proc (Linux):
 * CPU time and RSS of a process tree, machine-wide busy CPU, and kernel
 * socket memory (`/proc/net/sockstat`). Sampled once a second by the runner.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // CLK_TCK = 100 on Linux
const PAGE = 4096;

interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
}

function readProc(pid: number): ProcEntry | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2 (comm) may contain spaces: split after its closing paren.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(rest[1]),
      cpuMs: (Number(rest[11]) + Number(rest[12])) * TICK_MS,
      rssBytes: Number(rest[21]) * PAGE,
    };
  } catch {
    return null;
  }
}

function allProcs(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const e = readProc(Number(name));
    if (e !== null) out.push(e);
  }
  return out;
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Direct children of `pid` (the ingest supervisor's workers, for the fault harness). */
export function childPids(pid: number): number[] {
  return allProcs()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid);
}

export interface TreeUsage {
  readonly pids: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
}

/** CPU (user + system, ms since start) and RSS of each root's process tree. */
export function treeUsage(roots: readonly number[]): TreeUsage[] {
  const procs = allProcs();
  const children = new Map<number, ProcEntry[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [p]);
    else list.push(p);
  }
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  return roots.map((root) => {
    let pids = 0;
    let cpuMs = 0;
    let rssBytes = 0;
    const stack = byPid.has(root) ? [byPid.get(root)!] : [];
    while (stack.length > 0) {
      const p = stack.pop()!;
      pids++;
      cpuMs += p.cpuMs;
      rssBytes += p.rssBytes;
      for (const c of children.get(p.pid) ?? []) stack.push(c);
    }
    return { pids, cpuMs, rssBytes };
  });
}

/** Machine CPU: busy and total jiffies over all cores, as ms. */
export function machineCpu(): { busyMs: number; totalMs: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busyMs: (total - idle) * TICK_MS, totalMs: total * TICK_MS };
}

export interface SockStat {
  /** Sockets in use (all protocols). */
  readonly sockets: number;
  readonly tcpInUse: number;
  readonly tcpTimeWait: number;
  /** TCP buffer memory, bytes (sockstat reports pages). */
  readonly tcpMemBytes: number;
}

export function sockstat(): SockStat {
  const text = readFileSync('/proc/net/sockstat', 'latin1');
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? '0');
  return {
    sockets: num(/sockets: used (\d+)/),
    tcpInUse: num(/TCP: inuse (\d+)/),
    tcpTimeWait: num(/TCP:.* tw (\d+)/),
    tcpMemBytes: num(/TCP:.* mem (\d+)/) * PAGE,
  };
}

/** Slab memory of the kernel's socket caches (TCP, sock_inode, dentry…), bytes; null without access. */
export function socketSlabBytes(): number | null {
  try {
    const lines = readFileSync('/proc/slabinfo', 'latin1').split('\n').slice(2);
    let total = 0;
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      const name = f[0] ?? '';
      if (
        !/^(TCP|tcp_bind_bucket|sock_inode_cache|request_sock_TCP|skbuff_head_cache|eventpoll_epi|eventpoll_pwq|filp|dentry)$/.test(
          name,
        )
      )
        continue;
      total += Number(f[2]) * Number(f[3]);
    }
    return total;
  } catch {
    return null;
  }
}
