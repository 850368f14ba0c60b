/**
 * HTTP load worker (child process): an open-model generator.
 *
 * Arrivals are scheduled at fixed intervals (rate r: request i is due at
 * t0 + i/r) whatever the server does, and latency is measured from that
 * intended time, not from when a connection happened to be free. A request
 * waiting for a connection therefore counts its wait: coordinated omission
 * is corrected by construction (as wrk2 does), not patched afterwards.
 *
 *   timer (1 ms) ──► due arrivals ──► idle connection? send : open one (≤ max) / queue
 *   response ──► histogram (2xx / 503 overloaded), counts ──► tick to runner every second
 *
 * Each phase ends when its arrivals are sent and every one has completed or
 * timed out; then the phase's histograms go to the runner.
 */
import { createHistogram, encodeHistogram, type Histogram, recordMs } from '../histogram.js';
import { type Done, HttpConnection } from './http-connection.js';
import {
  emptyCounts,
  type HttpCounts,
  type HttpWorkerInit,
  type PhaseCommand,
  type RunnerMessage,
  type WorkerMessage,
} from './protocol.js';
import { openSource, type Requests } from './request-sources.js';

const TIMEOUT_CHECK_MS = 100;
/**
 * uWS closes keep-alive connections idle for ~10 s; a request written as the
 * server closes gets ECONNRESET with an unknown outcome. Connections idle
 * longer than this are closed by the generator first, as browsers do.
 */
const IDLE_RETIRE_MS = 4_000;
const MAX_SAMPLE_ERRORS = 5;

interface Queued {
  readonly request: string;
  readonly intendedAt: number;
  readonly id: string | null;
}

let init: HttpWorkerInit;
let source: Requests;
const conns = new Set<HttpConnection>();
const idle: HttpConnection[] = [];
/** FIFO of arrivals waiting for a connection; `head` avoids Array.shift. */
let queue: Queued[] = [];
let head = 0;
let nextTarget = 0;
let inFlight = 0;

let phaseName = '';
let phase = emptyCounts();
let okHist: Histogram = createHistogram();
let overloadedHist: Histogram = createHistogram();
let sendLag: Histogram = createHistogram();
let statuses: Record<string, number> = {};
let sampleErrors: string[] = [];
let tick = emptyCounts();
let tickHist: Histogram = createHistogram();
let tickStatuses: Record<string, number> = {};
/** Receipts and unknown-outcome ballotIds since the last tick or phase end. */
let receipts: string[] = [];
let unknownIds: string[] = [];
let lastCpu = process.cpuUsage();

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function openConnection(): void {
  const n = nextTarget++;
  const port = init.ports[n % init.ports.length]!;
  const local =
    init.localAddresses.length === 0 ? null : init.localAddresses[n % init.localAddresses.length]!;
  conns.add(new HttpConnection(port, local, onIdle, onDead));
}

function onIdle(c: HttpConnection): void {
  if (head < queue.length) {
    const q = queue[head]!;
    queue[head++] = undefined as unknown as Queued;
    if (head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    dispatchOn(c, q.request, q.intendedAt, q.id);
  } else {
    idle.push(c);
  }
}

function onDead(c: HttpConnection, _message: string): void {
  conns.delete(c);
  const at = idle.indexOf(c);
  if (at !== -1) idle.splice(at, 1);
  if (head < queue.length && conns.size < init.maxConnections) openConnection();
}

function noteStatus(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

function noteError(text: string): void {
  if (sampleErrors.length < MAX_SAMPLE_ERRORS && !sampleErrors.includes(text)) sampleErrors.push(text);
}

function complete(intendedAt: number, id: string | null): Done {
  return (status, body, receipt) => {
    inFlight--;
    const ms = performance.now() - intendedAt;
    if (id !== null) {
      // The receipt is what the answer says; an unanswered or 5xx cast may or may not be recorded.
      if (status >= 200 && status < 300)
        receipts.push(source.confirmsId ? id : (receipt ?? `unreadable:${id}`));
      else if (status === -1 || (status >= 500 && !body.includes('"overloaded"'))) unknownIds.push(id);
    }
    if (status >= 200 && status < 300) {
      phase.ok++;
      tick.ok++;
      if (status === 201) {
        phase.created++;
        tick.created++;
      }
      recordMs(okHist, ms);
      recordMs(tickHist, ms);
    } else if (status === 503 && body.includes('"overloaded"')) {
      phase.overloaded++;
      tick.overloaded++;
      recordMs(overloadedHist, ms);
    } else if (status === -1) {
      const timedOut = body === 'timeout';
      if (timedOut) {
        phase.timeouts++;
        tick.timeouts++;
      } else {
        phase.errors++;
        tick.errors++;
      }
      noteStatus(statuses, timedOut ? 'timeout' : 'error');
      noteStatus(tickStatuses, timedOut ? 'timeout' : 'error');
      noteError(body);
    } else {
      phase.otherStatus++;
      tick.otherStatus++;
      noteStatus(statuses, String(status));
      noteStatus(tickStatuses, String(status));
      noteError(`${status} ${body.slice(0, 160)}`);
    }
  };
}

function dispatchOn(c: HttpConnection, request: string, intendedAt: number, id: string | null): void {
  c.send(request, intendedAt, complete(intendedAt, id));
}

function arrive(intendedAt: number): void {
  phase.offered++;
  tick.offered++;
  const request = source.next();
  const id = source.lastId;
  if (request === null) {
    phase.starved++;
    tick.starved++;
    return;
  }
  inFlight++;
  let c = idle.pop();
  while (c !== undefined && performance.now() - c.idleSince > IDLE_RETIRE_MS) {
    conns.delete(c);
    c.retire();
    c = idle.pop();
  }
  if (c !== undefined) {
    recordMs(sendLag, performance.now() - intendedAt);
    dispatchOn(c, request, intendedAt, id);
    return;
  }
  queue.push({ request, intendedAt, id });
  if (conns.size < init.maxConnections) openConnection();
}

function checkTimeouts(now: number): void {
  for (const c of conns) {
    if (c.busy && now - c.sentAt > init.timeoutMs) c.abort('timeout');
  }
}

function runPhase(cmd: PhaseCommand): Promise<void> {
  phaseName = cmd.name;
  phase = emptyCounts();
  okHist = createHistogram();
  overloadedHist = createHistogram();
  sendLag = createHistogram();
  statuses = {};
  sampleErrors = [];
  const total = Math.round(cmd.rate * cmd.durationSec);
  const t0 = performance.now();
  let issued = 0;
  let lastTimeoutCheck = t0;
  return new Promise((resolve) => {
    const step = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * cmd.rate) / 1000));
      while (issued < due) arrive(t0 + (issued++ * 1000) / cmd.rate);
      if (now - lastTimeoutCheck >= TIMEOUT_CHECK_MS) {
        lastTimeoutCheck = now;
        checkTimeouts(now);
      }
      if (issued >= total && inFlight === 0) {
        resolve();
        return;
      }
      setTimeout(step, issued >= total ? 10 : 1);
    };
    step();
  });
}

function phaseEnd(): void {
  send({
    type: 'phase-end',
    worker: init.id,
    phase: phaseName,
    counts: phase,
    okHistogram: encodeHistogram(okHist),
    overloadedHistogram: encodeHistogram(overloadedHist),
    sendLagHistogram: encodeHistogram(sendLag),
    statuses,
    sampleErrors,
    ...takeIds(),
  });
}

function takeIds(): { receipts: string[]; unknownIds: string[] } {
  const ids = { receipts, unknownIds };
  receipts = [];
  unknownIds = [];
  return ids;
}

function sendTick(): void {
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  const counts: HttpCounts = tick;
  send({
    type: 'http-tick',
    worker: init.id,
    phase: phaseName,
    counts,
    okHistogram: encodeHistogram(tickHist),
    inFlight,
    queued: queue.length - head,
    connections: conns.size,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: process.memoryUsage.rss(),
    statuses: tickStatuses,
    ...takeIds(),
  });
  tick = emptyCounts();
  tickHist = createHistogram();
  tickStatuses = {};
}

process.on('message', (message: RunnerMessage) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        if (message.init.kind !== 'http') throw new Error('not an HTTP worker init');
        init = message.init;
        source = await openSource(init.source);
        setInterval(sendTick, 1000).unref();
        send({ type: 'ready', worker: init.id, prepared: source.total });
      } else if (message.type === 'phase') {
        await runPhase(message);
        phaseEnd();
      } else {
        for (const c of conns) c.socket.destroy();
        send({ type: 'bye', worker: init.id });
        setTimeout(() => process.exit(0), 50);
      }
    } catch (err) {
      send({ type: 'failed', worker: init?.id ?? -1, message: String((err as Error).stack ?? err) });
      process.exit(1);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
