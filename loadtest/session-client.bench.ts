/**
 * Which session client holds 100k sockets in the memory we have?
 * `npx tsx loadtest/session-client.bench.ts [sessions]` opens `sessions`
 * (default 10,000) WebSocket sessions against a bare uWS server (one
 * process, `/v1/session`-like, pings on) twice, in child processes: with the
 * minimal node:net client (`workers/ws-session.ts`) and with the `ws`
 * package; prints each client's RSS and heap per session and CPU to connect.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadUws } from '../common/uws.js';
import { type SessionEvents, WsSession } from './workers/ws-session.js';

/** The `ws` package (8.13, already installed with uWebSockets.js; no @types/ws here). */
interface WsClient {
  on(event: 'open', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
type WsConstructor = new (url: string, options: Record<string, unknown>) => WsClient;
const WebSocket = createRequire(import.meta.url)('ws') as WsConstructor;

const PORT = 18_799;
const mode = process.argv[2];

async function holdClients(kind: 'net' | 'ws', n: number): Promise<void> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  let open = 0;
  const held: unknown[] = [];
  await new Promise<void>((resolve) => {
    const events: SessionEvents = {
      open: () => {
        if (++open === n) resolve();
      },
      message: () => undefined,
      closed: (_s, reason, detail) => process.stderr.write(`closed ${reason} ${detail}\n`),
    };
    let made = 0;
    const step = (): void => {
      for (let i = 0; i < 200 && made < n; i++, made++) {
        const local = `127.0.0.${40 + (made % 4)}`;
        if (kind === 'net') held.push(new WsSession(PORT, local, events));
        else {
          const ws = new WebSocket(`ws://127.0.0.1:${PORT}/v1/session`, {
            localAddress: local,
            perMessageDeflate: false,
          });
          ws.on('open', () => events.open(null as unknown as WsSession));
          ws.on('error', (e) => process.stderr.write(`${e.message}\n`));
          held.push(ws);
        }
      }
      if (made < n) setTimeout(step, 20);
    };
    step();
  });
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 2000));
  global.gc?.();
  const m = process.memoryUsage();
  process.send?.({
    kind,
    sessions: n,
    rssPerSessionBytes: Math.round((m.rss - rss0) / n),
    heapPerSessionBytes: Math.round((m.heapUsed - heap0) / n),
    cpuMsToConnect: Math.round((cpu.user + cpu.system) / 1000),
  });
  process.exit(0);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? '10000');
  const uws = loadUws();
  const app = uws.App();
  app.ws('/v1/session', { idleTimeout: 120, sendPingsAutomatically: true, compression: uws.DISABLED });
  await new Promise<void>((resolve, reject) =>
    app.listen(PORT, (s) => (s === false ? reject(new Error('listen')) : resolve())),
  );
  const self = fileURLToPath(import.meta.url);
  for (const kind of ['net', 'ws'] as const) {
    const serverRss0 = process.memoryUsage().rss;
    const child = fork(self, ['client', kind, String(n)], { execArgv: [...process.execArgv, '--expose-gc'] });
    const result = (await new Promise((resolve) => child.on('message', resolve))) as Record<string, number>;
    // The uWS side of the same sessions (C++ per-socket state; no JS object per socket here).
    const serverPerSession = Math.round((process.memoryUsage().rss - serverRss0) / n);
    process.stdout.write(`${JSON.stringify({ ...result, uwsServerRssPerSessionBytes: serverPerSession })}\n`);
    await new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, 2000));
  }
  process.exit(0);
}

if (mode === 'client') void holdClients(process.argv[3] as 'net' | 'ws', Number(process.argv[4]));
else void main();
