/**
 * One produce run in this (child) process: a client, the record log's loop,
 * a warm-up, then a measured window.
 *
 * - Saturation (`rate: null`): offered load unlimited. Three max batches are
 *   kept appended and unacknowledged at all times, so every send leaves full
 *   (500) and the next one is waiting; what is measured is records
 *   acknowledged per second.
 * - Fixed rate: open model. Record i is due at t0 + i/rate whatever the
 *   producer does; a 1 ms tick appends every record that is due, and latency
 *   runs from the due time to the ack, so a stalled loop or a slow send counts
 *   in full (coordinated omission corrected, as loadtest/README.md does).
 *
 * CPU and broker CPU are taken over the window only (usage.ts).
 */
import { createHistogram, percentiles, recordMs } from '../../loadtest/histogram.js';
import { type LedgerRecord, prepareBallots } from './ballots.js';
import { errorChain } from './error-chain.js';
import type { ProduceJob, ProduceResult } from './jobs.js';
import { createProducer } from './producers.js';
import { RecordBatcher } from './record-batcher.js';
import { mark, since, type UsageMark, type WindowUsage } from './usage.js';

/** Distinct records made before the clock starts (cycled). */
const PREPARED = 20_000;
/** Saturation: max batches kept appended and unacknowledged. */
const SATURATION_DEPTH = 3;
/** After the window, how long unacknowledged records may take before the run fails. */
const DRAIN_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runProduce(job: ProduceJob): Promise<ProduceResult> {
  const records = prepareBallots(PREPARED, job.election);
  const producer = createProducer({
    client: job.client,
    idempotent: job.idempotent,
    brokers: job.brokers,
    topic: job.topic,
    timeoutMs: job.timeoutMs,
  });
  await producer.connect();
  const batcher = new RecordBatcher(producer, job.lingerMs, job.maxBatch);
  const run =
    job.rate === null ? saturate(job, batcher, records) : openModel(job, batcher, records, job.rate);
  try {
    return await run;
  } finally {
    // A client that cannot close within 5 s must not hold the answer back.
    await Promise.race([producer.close(), sleep(5000)]);
  }
}

async function saturate(
  job: ProduceJob,
  batcher: RecordBatcher,
  records: readonly LedgerRecord[],
): Promise<ProduceResult> {
  let next = 0;
  let acked = 0;
  let failed = 0;
  let firstError: string | null = null;
  let feeding = true;
  const feed = (): void => {
    batcher.append(records[next++ % records.length]!).then(onAck, onFail);
  };
  const onAck = (): void => {
    acked++;
    if (feeding) feed();
  };
  const onFail = (error: unknown): void => {
    failed++;
    firstError ??= errorChain(error);
    if (feeding) feed();
  };
  for (let i = 0; i < SATURATION_DEPTH * job.maxBatch; i++) feed();
  await sleep(job.warmupSec * 1000);
  const start = windowStart(job, batcher);
  const ackedBefore = acked;
  await sleep(job.durationSec * 1000);
  const window = windowEnd(job, batcher, start);
  const inWindow = acked - ackedBefore;
  feeding = false;
  await drained(batcher);
  return result(inWindow, failed, window, null, firstError);
}

async function openModel(
  job: ProduceJob,
  batcher: RecordBatcher,
  records: readonly LedgerRecord[],
  rate: number,
): Promise<ProduceResult> {
  const histogram = createHistogram();
  const t0 = performance.now();
  const measureFrom = t0 + job.warmupSec * 1000;
  const measureUntil = measureFrom + job.durationSec * 1000;
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const window = await new Promise<Window>((done) => {
    let start: WindowStart | null = null;
    const tick = (): void => {
      const now = performance.now();
      if (start === null && now >= measureFrom) start = windowStart(job, batcher);
      const dueUntil = Math.min(now, measureUntil);
      for (let due = t0 + (next * 1000) / rate; due <= dueUntil; due = t0 + (next * 1000) / rate) {
        const measured = due >= measureFrom;
        batcher.append(records[next++ % records.length]!).then(
          () => {
            if (measured) recordMs(histogram, performance.now() - due);
          },
          (error: unknown) => {
            failed++;
            firstError ??= errorChain(error);
          },
        );
      }
      if (now >= measureUntil) done(windowEnd(job, batcher, start ?? windowStart(job, batcher)));
      else setTimeout(tick, 1);
    };
    tick();
  });
  await drained(batcher);
  return result(histogram.totalCount, failed, window, percentiles(histogram), firstError);
}

interface WindowStart {
  readonly usage: UsageMark;
  readonly sends: number;
  readonly sentRecords: number;
}

interface Window {
  readonly usage: WindowUsage;
  readonly sends: number;
  readonly meanBatch: number;
}

function windowStart(job: ProduceJob, batcher: RecordBatcher): WindowStart {
  return { usage: mark(job.brokerPids), sends: batcher.sends, sentRecords: batcher.sentRecords };
}

function windowEnd(job: ProduceJob, batcher: RecordBatcher, start: WindowStart): Window {
  const sends = batcher.sends - start.sends;
  return {
    usage: since(start.usage, job.brokerPids),
    sends,
    meanBatch: (batcher.sentRecords - start.sentRecords) / Math.max(1, sends),
  };
}

async function drained(batcher: RecordBatcher): Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`records still unacknowledged ${DRAIN_MS} ms after the window`)),
      DRAIN_MS,
    );
  });
  try {
    await Promise.race([batcher.flush(), late]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

function result(
  acked: number,
  failed: number,
  window: Window,
  latencyMs: ProduceResult['latencyMs'],
  firstError: string | null,
): ProduceResult {
  const { usage } = window;
  return {
    kind: 'produce',
    acked,
    failed,
    recordsPerSec: (acked * 1000) / usage.wallMs,
    latencyMs,
    sends: window.sends,
    meanBatch: Math.round(window.meanBatch * 10) / 10,
    usage,
    cpuMsPer1000: (usage.cpuMs * 1000) / Math.max(1, acked),
    brokerCpuMsPer1000: usage.brokerCpuMs === null ? null : (usage.brokerCpuMs * 1000) / Math.max(1, acked),
    firstError,
  };
}
