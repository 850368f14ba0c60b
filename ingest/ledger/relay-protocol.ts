/**
 * IPC messages between ingest workers and the supervisor's ledger host
 * (relay-client.ts ↔ relay-host.ts). Sent over the fork channel with
 * `serialization: 'advanced'`; each message carries many writes or verdicts,
 * one per event-loop turn, never one per request.
 */
import type { TopicName } from '../../common/records.js';
import type { DoneMark } from './entries.js';
import type { LedgerState, Verdict } from './ledger-host.js';
import type { MixInfo } from './mix.js';
import type { SendInfo } from './record-log.js';

/** One write: [id, topic, partition, value, timestampMs, region, mix, key, hash, done, deadline]. */
export type RelayedWrite = readonly [
  id: number,
  topic: TopicName,
  partition: number,
  value: string,
  timestampMs: number,
  region: string,
  mix: string | null,
  key: string,
  hash: string,
  done: DoneMark,
  deadline: number,
];

export interface WritesMessage {
  readonly type: 'writes';
  readonly writes: readonly RelayedWrite[];
}

export interface VerdictsMessage {
  readonly type: 'verdicts';
  readonly verdicts: readonly (readonly [id: number, verdict: Verdict])[];
  /** Kafka sends to count in this worker's metrics (each send goes to one worker only). */
  readonly sends: readonly SendInfo[];
  /** Ballot mix batches released, likewise counted by one worker. */
  readonly mixes: readonly MixInfo[];
}

export interface StateMessage {
  readonly type: 'state';
  readonly state: LedgerState;
}

export type HostMessage = VerdictsMessage | StateMessage;

export function isWritesMessage(message: unknown): message is WritesMessage {
  return (message as { type?: unknown } | null)?.type === 'writes';
}

export function isHostMessage(message: unknown): message is HostMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'verdicts' || type === 'state';
}
