/**
 * Observer holder (child process of `loadtest observers`): opens `count`
 * WebSockets to the publisher's `/v1/observe/feed` at `rampPerSec`, signs
 * each in with the observer token, and notes when each socket first got
 * each distinct view. Its own process: its event loop and open files (the
 * 20,000 cap) are not the cast generator's, and its CPU is the observers',
 * not the publisher's.
 *
 * The runner asks afterwards, per question ("total castOnline ≥ n", "the
 * actions hold id X"), when each socket first saw a view that answers it:
 * Unix ms per socket, or -1 if never. All sockets get the same strings (one
 * serialisation per push), so each distinct view is parsed once.
 *
 *   runner → {type:'start', url, token, count, rampPerSec}
 *   holder → {type:'status', open, signedIn, drops, refused}   every second
 *   runner → {type:'ask', id, castAtLeast? | action?}  → {type:'answer', id, arrivals}
 *   runner → {type:'stop'}
 */
import { createRequire } from 'node:module';

interface Start {
  readonly type: 'start';
  readonly url: string;
  readonly token: string;
  readonly count: number;
  readonly rampPerSec: number;
}
interface Ask {
  readonly type: 'ask';
  readonly id: number;
  readonly castAtLeast?: number;
  readonly action?: string;
}
type Incoming = Start | Ask | { readonly type: 'stop' };

export type HolderMessage =
  | { type: 'status'; open: number; signedIn: number; drops: number; refused: Record<string, number> }
  | { type: 'answer'; id: number; arrivals: number[] };

interface MiniSocket {
  on(event: 'open', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close', listener: (code: number) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  send(text: string): void;
  terminate(): void;
}

/** A distinct view: what the questions need of it, and when each socket first got it. */
interface View {
  readonly castOnline: number;
  readonly actions: ReadonlySet<string>;
  readonly arrivals: Map<number, number>;
}

const require = createRequire(import.meta.url);
// `ws` comes with the uWebSockets.js package.
const { WebSocket } = require('ws') as { WebSocket: new (url: string) => MiniSocket };

const views = new Map<string, View>();
const sockets: MiniSocket[] = [];
let open = 0;
let signedIn = 0;
let drops = 0;
let stopping = false;
const refused: Record<string, number> = {};
const send = (m: HolderMessage): void => void process.send?.(m);

function connect(i: number, url: string, token: string): void {
  const socket = new WebSocket(url);
  sockets[i] = socket;
  let got = false;
  socket.on('error', () => undefined);
  socket.on('open', () => {
    open++;
    socket.send(JSON.stringify({ token }));
  });
  socket.on('message', (data) => {
    const now = Date.now();
    if (!got) {
      got = true;
      signedIn++;
    }
    const text = data.toString('utf8');
    let view = views.get(text);
    if (view === undefined) {
      const body = JSON.parse(text) as {
        turnout: { total: { castOnline: number } };
        actions: { id: string }[];
      };
      view = {
        castOnline: body.turnout.total.castOnline,
        actions: new Set(body.actions.map((a) => a.id)),
        arrivals: new Map(),
      };
      views.set(text, view);
    }
    if (!view.arrivals.has(i)) view.arrivals.set(i, now);
  });
  socket.on('close', (code) => {
    if (open > 0) open--;
    if (got) signedIn--;
    if (stopping) return;
    if (code >= 4000) refused[code] = (refused[code] ?? 0) + 1;
    else drops++;
  });
}

function answer(ask: Ask): number[] {
  const arrivals = new Array<number>(sockets.length).fill(-1);
  for (const view of views.values()) {
    const fits =
      ask.castAtLeast !== undefined ? view.castOnline >= ask.castAtLeast : view.actions.has(ask.action ?? '');
    if (!fits) continue;
    for (const [i, at] of view.arrivals) if (arrivals[i] === -1 || at < arrivals[i]!) arrivals[i] = at;
  }
  return arrivals;
}

process.on('message', (m: Incoming) => {
  if (m.type === 'start') {
    const perTick = Math.max(1, Math.round(m.rampPerSec / 10));
    let next = 0;
    const ramp = setInterval(() => {
      for (let k = 0; k < perTick && next < m.count; k++) connect(next++, m.url, m.token);
      if (next >= m.count) clearInterval(ramp);
    }, 100);
    setInterval(() => send({ type: 'status', open, signedIn, drops, refused }), 1000).unref();
  } else if (m.type === 'ask') {
    send({ type: 'answer', id: m.id, arrivals: answer(m) });
  } else {
    stopping = true;
    for (const s of sockets) s.terminate();
    setTimeout(() => process.exit(0), 100);
  }
});
process.on('disconnect', () => process.exit(0));
