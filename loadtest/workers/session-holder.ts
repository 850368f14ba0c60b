/**
 * Session holder (child process): opens `sessions` WebSocket sessions to
 * `/v1/session` at `rampPerSec`, from one source address over the ingest
 * ports, and holds them. A session that drops is counted and reconnected
 * after a jittered 1–3 s; a refused upgrade (503 at a process's session cap)
 * is retried the same way. Reports once a second.
 *
 * One worker stays well under the 20,000 open-files limit (the runner gives
 * each ≤ 14,000 sessions); it goes round-robin over the ingest ports without
 * binding a source address (see scenarios/sessions.ts for why).
 */
import { createHistogram, encodeHistogram, recordMs } from '../histogram.js';
import type { RunnerMessage, SessionWorkerInit, WorkerMessage } from './protocol.js';
import { type SessionEvents, WsSession } from './ws-session.js';

let init: SessionWorkerInit;
const sessions = new Set<WsSession>();
let open = 0;
let opened = 0;
let drops = 0;
let reconnects = 0;
let refused = 0;
let errors = 0;
let messages = 0;
let wanted = 0;
let started = 0;
let stopping = false;
let connectHist = createHistogram();
let lastCpu = process.cpuUsage();
const sampleErrors: string[] = [];

function send(message: WorkerMessage): void {
  process.send?.(message);
}

const events: SessionEvents = {
  open(s) {
    open++;
    opened++;
    recordMs(connectHist, performance.now() - s.startedAt);
  },
  message() {
    messages++;
  },
  closed(s, reason, detail) {
    sessions.delete(s);
    if (s.upgraded) open--;
    if (stopping) return;
    if (reason === 'refused') refused++;
    else if (s.upgraded) drops++;
    else errors++;
    if (sampleErrors.length < 5 && !sampleErrors.includes(detail)) sampleErrors.push(detail);
    setTimeout(
      () => {
        if (stopping) return;
        reconnects++;
        startOne();
      },
      1000 + Math.random() * 2000,
    );
  },
};

function startOne(): void {
  const port = init.ports[started++ % init.ports.length]!;
  sessions.add(new WsSession(port, init.localAddress, events));
}

function ramp(): void {
  const t0 = performance.now();
  let made = 0;
  const step = (): void => {
    if (stopping) return;
    const due = Math.min(wanted, Math.floor(((performance.now() - t0) * init.rampPerSec) / 1000));
    while (made < due) {
      made++;
      startOne();
    }
    if (made < wanted) setTimeout(step, 5);
  };
  step();
}

function report(): void {
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  send({
    type: 'session-tick',
    worker: init.id,
    open,
    opened,
    drops,
    reconnects,
    refused,
    errors,
    messages,
    connectHistogram: encodeHistogram(connectHist),
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: process.memoryUsage.rss(),
    sampleErrors,
  });
  connectHist = createHistogram();
}

process.on('message', (message: RunnerMessage) => {
  if (message.type === 'init') {
    if (message.init.kind !== 'sessions') throw new Error('not a session worker init');
    init = message.init;
    wanted = init.sessions;
    setInterval(report, 1000).unref();
    send({ type: 'ready', worker: init.id, prepared: wanted });
  } else if (message.type === 'phase') {
    ramp();
  } else {
    stopping = true;
    for (const s of sessions) s.close();
    report();
    send({ type: 'bye', worker: init.id });
    setTimeout(() => process.exit(0), 100);
  }
});
process.on('disconnect', () => process.exit(0));
