/**
 * The process model: `main.ts` runs several ingest processes sharing one port
 * (SO_REUSEPORT) plus an extra port, and the operations port the same way, each using the native uWS binary and
 * capped at 20,000 open files; a crashed worker is restarted; SIGTERM drains
 * every worker and exits 0.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, childPids, type Ingest, opsPortOf, prepareElection, startIngest } from './ingest.harness.js';
import { testPort } from './support/ports.js';

const PORT = testPort(18_483);
const EXTRA_PORT = testPort(18_484);
let ingest: Ingest;
let electionId: string;

/** Listening sockets on a port (SO_REUSEPORT: one per worker). */
function listeners(port: number): number {
  return execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean).length;
}

/** Waits until `count` workers listen on `port` (the shared voting port unless said). */
async function awaitListeners(count: number, port = PORT): Promise<void> {
  for (let i = 0; i < 300 && listeners(port) < count; i++) await new Promise((r) => setTimeout(r, 100));
  expect(listeners(port)).toBe(count);
}

beforeAll(async () => {
  const { path, index } = await prepareElection('ingest-supervisor-test', 500);
  electionId = index.id;
  ingest = await startIngest({
    election: path,
    port: PORT,
    processes: 2,
    env: { INGEST_EXTRA_PORTS: String(EXTRA_PORT) },
  });
  // Wait until both workers are up (the first ready one already answers /readyz).
  for (let i = 0; i < 100 && childPids(ingest.child.pid!).length < 2; i++)
    await new Promise((r) => setTimeout(r, 100));
}, 300_000);

afterAll(async () => {
  if (ingest?.child.exitCode === null) await ingest.stop();
});

describe('the ingest supervisor', () => {
  it('runs two workers on one shared port and an extra port, on the native uWS binary', async () => {
    const workers = childPids(ingest.child.pid!);
    expect(workers, ingest.output()).toHaveLength(2);
    for (const pid of workers) {
      expect(readFileSync(`/proc/${pid}/maps`, 'utf8')).toMatch(/uws_linux_x64_\d+\.node/);
      const limit = /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];
      expect(Number(limit)).toBeLessThanOrEqual(20_000);
    }
    for (const port of [PORT, EXTRA_PORT]) {
      expect((await api(`http://127.0.0.1:${port}`, 'GET', `/v1/elections/${electionId}`)).status).toBe(200);
    }
    // Both workers share the operations port too (a worker opens it once it serves: wait for it).
    await awaitListeners(2, opsPortOf(PORT));
    expect((await api(ingest.ops, 'GET', '/healthz')).status).toBe(200);
  });

  it('restarts a worker that crashes', async () => {
    const [victim, survivor] = childPids(ingest.child.pid!);
    process.kill(victim!, 'SIGKILL');
    let now: number[] = [];
    for (let i = 0; i < 300; i++) {
      now = childPids(ingest.child.pid!);
      if (now.length === 2 && !now.includes(victim!)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(now).toContain(survivor);
    expect(now).toHaveLength(2);
    expect(now).not.toContain(victim);
    await awaitListeners(2);
    // Connections the kernel had already queued on the killed socket are reset; new ones are served.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (
        await api(`http://127.0.0.1:${PORT}`, 'GET', `/v1/elections/${electionId}`).catch(() => ({
          status: 0,
        }))
      ).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    const workers = childPids(ingest.child.pid!);
    const code = await ingest.stop();
    expect(code, ingest.output()).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });
});
