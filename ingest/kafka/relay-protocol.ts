/**
 * IPC messages between ingest workers and the supervisor's shared producer
 * (relay-client.ts ↔ relay-host.ts). Sent over the fork channel with
 * `serialization: 'advanced'`; each message carries many records or acks,
 * one per event-loop turn, never one per request.
 */
import type { TopicName } from '../../common/records.js';
import type { SendInfo } from './record-log.js';

/** One record to append: [id, topic, partition, value, timestampMs]. */
export type RelayedRecord = readonly [number, TopicName, number, string, number];

export interface RecordsMessage {
  readonly type: 'records';
  readonly records: readonly RelayedRecord[];
}

export interface AcksMessage {
  readonly type: 'acks';
  /** Ids acknowledged by Kafka (acks=all). */
  readonly ok: readonly number[];
  /** Ids whose send failed, with the reason. */
  readonly failed: readonly (readonly [number, string])[];
  /** The Kafka sends that carried the `ok` records, each once (for the worker's metrics). */
  readonly sends: readonly SendInfo[];
}

export interface KafkaStateMessage {
  readonly type: 'kafka';
  readonly ready: boolean;
}

export type HostMessage = AcksMessage | KafkaStateMessage;

export function isRecordsMessage(message: unknown): message is RecordsMessage {
  return (message as { type?: unknown } | null)?.type === 'records';
}

export function isHostMessage(message: unknown): message is HostMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'acks' || type === 'kafka';
}
