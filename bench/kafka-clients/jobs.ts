/**
 * What the runner (kafka-clients.bench.ts) asks of a forked child
 * (child.ts) and what the child answers, over the fork's IPC channel.
 * One child per run, so `process.cpuUsage()` is that configuration's alone.
 */
import type { Percentiles } from '../../loadtest/histogram.js';
import type { ClientName } from './producers.js';
import type { PartitionRange } from './topic.js';
import type { WindowUsage } from './usage.js';

export interface Connection {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Broker pids for their CPU; empty when unknown. */
  readonly brokerPids: readonly number[];
}

export interface ProduceJob extends Connection {
  readonly kind: 'produce';
  readonly client: ClientName;
  readonly idempotent: boolean;
  /** `null`: saturation (offered load unlimited); otherwise records/s, open model. */
  readonly rate: number | null;
  readonly warmupSec: number;
  readonly durationSec: number;
  readonly lingerMs: number;
  readonly maxBatch: number;
  readonly timeoutMs: number;
  /** Election config the ballots are drawn from. */
  readonly election: string;
}

export const READERS = ['kafkajs-consumer', 'platformatic-stream', 'platformatic-fetch'] as const;
export type ReaderName = (typeof READERS)[number];

export interface ReadJob extends Connection {
  readonly kind: 'read';
  readonly reader: ReaderName;
  readonly ranges: readonly PartitionRange[];
  readonly timeoutSec: number;
}

export type Job = ProduceJob | ReadJob;

export interface ProduceResult {
  readonly kind: 'produce';
  /** Records acknowledged inside the measurement window. */
  readonly acked: number;
  readonly failed: number;
  readonly recordsPerSec: number;
  /** Open model: append → ack from the intended append time, for records due inside the window. */
  readonly latencyMs: Percentiles | null;
  readonly sends: number;
  readonly meanBatch: number;
  readonly usage: WindowUsage;
  readonly cpuMsPer1000: number;
  readonly brokerCpuMsPer1000: number | null;
  readonly firstError: string | null;
}

export interface ReadResult {
  readonly kind: 'read';
  readonly records: number;
  readonly valueBytes: number;
  /** From creating the client to the first record: connect, metadata, group join, first fetch. */
  readonly startupMs: number;
  /** From creating the client to the last record. */
  readonly totalMs: number;
  /** Records ÷ totalMs: what a rebuild or reconcile waits for. */
  readonly recordsPerSec: number;
  /** Records ÷ (first record → last); flatters clients that decode a whole response before the first record. */
  readonly steadyRecordsPerSec: number;
  /** Over totalMs. */
  readonly usage: WindowUsage;
  readonly cpuMsPer1000: number;
  readonly brokerCpuMsPer1000: number | null;
}

export type ChildAnswer =
  | { readonly ok: true; readonly result: ProduceResult | ReadResult }
  | { readonly ok: false; readonly error: string };
