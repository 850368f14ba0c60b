/**
 * A voter process (child of the harness): its slice of the run's voters,
 * started at evenly spaced arrival times over the window whatever the server
 * does (open model), each running its whole flow (`voter.ts`) concurrently.
 * Writes its history file, sends a tick a second (answers by outcome, ok
 * latencies) and a summary when its last voter is done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  listSampleMembers,
  loadElection,
  MAX_SAMPLE_PAGE,
  readKeys,
  voterHash,
} from '../../../election/index.js';
import { MESSAGE_BYTES, RECORD_BYTES, readCredentials } from '../../credentials.js';
import { createHistogram, encodeHistogram, type Histogram, recordMs } from '../../histogram.js';
import { HistoryWriter } from '../history.js';
import { seededFor } from '../random.js';
import type { Answer } from './api.js';
import { type BlindKey, blindKey } from './blind-client.js';
import {
  emptyOutcomeCounts,
  type HarnessMessage,
  type OutcomeCounts,
  type RequestKind,
  type VoterSummary,
  type VoterWorkerInit,
  type VoterWorkerMessage,
} from './protocol.js';
import { type Credential, type Member, Voter } from './voter.js';

type Slot = { readonly cache: Credential } | { readonly member: Member };

const ARRIVAL_TICK_MS = 5;

let init: VoterWorkerInit;
let slots: Slot[] = [];
let keys: Map<string, BlindKey>;
let history: HistoryWriter;
let summary: VoterSummary;
let tick = emptyOutcomeCounts();
let castHist: Histogram = createHistogram();
let issueHist: Histogram = createHistogram();
let arrivals = 0;
let active = 0;
let lastCpu = process.cpuUsage();

function send(message: VoterWorkerMessage): void {
  process.send?.(message);
}

async function prepare(o: VoterWorkerInit): Promise<void> {
  const index = loadElection(o.electionPath);
  const electionKeys = await readKeys(o.stackDir, index.id);
  keys = new Map([...electionKeys.districts].map(([id, k]) => [id, blindKey(k.publicKey)]));
  const cache: Credential[] = [];
  if (o.credentialFile !== null && o.cacheCount > 0) {
    const districts = index.config.districts;
    const records = await readCredentials(o.credentialFile, o.cacheFirst, o.cacheCount);
    for (let i = 0; i < o.cacheCount; i++) {
      const at = i * RECORD_BYTES;
      cache.push({
        district: districts[records.readUInt16BE(at)]!.id,
        message: records.subarray(at + 2, at + 2 + MESSAGE_BYTES),
        signature: records.subarray(at + 2 + MESSAGE_BYTES, at + RECORD_BYTES),
      });
    }
  }
  const members: Member[] = [];
  for (let from = o.memberFirst; from < o.memberFirst + o.memberCount; from += MAX_SAMPLE_PAGE) {
    const count = Math.min(MAX_SAMPLE_PAGE, o.memberFirst + o.memberCount - from);
    for (const m of listSampleMembers(index, from, count)) {
      members.push({
        memberId: m.memberId,
        district: m.district,
        voterHash: voterHash(electionKeys.pepper, m.memberId),
      });
    }
  }
  // Members spread evenly among cache voters (Bresenham), so both kinds arrive all along the window.
  const total = cache.length + members.length;
  let c = 0;
  let m = 0;
  for (let i = 0; i < total; i++) {
    const isMember =
      Math.floor(((i + 1) * members.length) / total) > Math.floor((i * members.length) / total);
    slots.push(isMember ? { member: members[m++]! } : { cache: cache[c++]! });
  }
  summary = {
    voters: total,
    cacheVoters: cache.length,
    issuanceVoters: members.length,
    started: 0,
    finished: 0,
    gaveUp: 0,
    changedBallots: 0,
    recasts: 0,
    secondDevices: 0,
    skippedLater: 0,
    anomalies: 0,
    outcomes: emptyOutcomeCounts(),
    codes: {},
  };
  history = new HistoryWriter(o.historyFile);
}

function note(kind: RequestKind, answer: Answer): void {
  tick[kind][answer.outcome]++;
  summary.outcomes[kind][answer.outcome]++;
  if (answer.outcome === 'ok') {
    if (kind === 'cast') recordMs(castHist, answer.ms);
    else if (kind === 'issue') recordMs(issueHist, answer.ms);
  }
  const key = `${kind} ${answer.status} ${answer.code || 'ok'}`;
  summary.codes[key] = (summary.codes[key] ?? 0) + 1;
}

function sendTick(): void {
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  const counts: OutcomeCounts = tick;
  send({
    type: 'tick',
    worker: init.id,
    counts,
    castHistogram: castHist.totalCount > 0 ? encodeHistogram(castHist) : '',
    issueHistogram: issueHist.totalCount > 0 ? encodeHistogram(issueHist) : '',
    arrivals,
    active,
    cpuMs: (cpu.user + cpu.system) / 1000,
  });
  tick = emptyOutcomeCounts();
  castHist = createHistogram();
  issueHist = createHistogram();
  arrivals = 0;
}

async function run(t0: number, arrivalsMs: number, deadlineMs: number): Promise<void> {
  const index = loadElection(init.electionPath);
  const env = {
    base: init.base,
    index,
    keys,
    client: init.client,
    behaviour: init.behaviour,
    t0,
    deadline: t0 + deadlineMs,
    write: (r: Parameters<HistoryWriter['write']>[0]) => history.write(r),
    note,
  };
  const ticker = setInterval(sendTick, 1000);
  const rate = slots.length / (arrivalsMs / 1000);
  const schedule = init.arrivalsMs;
  const dueBy = (elapsedMs: number): number => {
    if (schedule === null) return Math.min(slots.length, Math.floor((elapsedMs * rate) / 1000));
    let due = next;
    while (due < slots.length && schedule[due]! <= elapsedMs) due++;
    return due;
  };
  const running: Promise<void>[] = [];
  let next = 0;
  while (next < slots.length) {
    const due = dueBy(Date.now() - t0);
    for (; next < due; next++) {
      const slot = slots[next]!;
      const voter = new Voter(env, seededFor(init.seed, init.id * 10_000_000 + next));
      arrivals++;
      active++;
      summary.started++;
      const flow = 'cache' in slot ? voter.castOnly(slot.cache) : voter.issueAndCast(slot.member);
      running.push(
        flow
          .catch((err: unknown) => {
            voter.result.anomalies++;
            history.write({
              k: 'anomaly',
              t: Date.now() - t0,
              what: `voter crashed: ${(err as Error).message}`,
            });
          })
          .finally(() => {
            active--;
            summary.finished++;
            const r = voter.result;
            if (r.gaveUp) summary.gaveUp++;
            if (r.changed) summary.changedBallots++;
            if (r.recast) summary.recasts++;
            if (r.secondDevice) summary.secondDevices++;
            if (r.skippedLater) summary.skippedLater++;
            summary.anomalies += r.anomalies;
          }),
      );
    }
    await sleep(ARRIVAL_TICK_MS);
  }
  await Promise.all(running);
  clearInterval(ticker);
  sendTick();
  await history.close();
  slots = [];
}

process.on('message', (message: HarnessMessage) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        init = message.init;
        await prepare(init);
        send({ type: 'ready', worker: init.id, voters: slots.length });
      } else {
        await run(message.t0, message.arrivalsMs, message.deadlineMs);
        send({ type: 'done', worker: init.id, summary });
        setTimeout(() => process.exit(0), 50);
      }
    } catch (err) {
      send({ type: 'failed', worker: init?.id ?? -1, message: String((err as Error).stack ?? err) });
      setTimeout(() => process.exit(1), 50);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
