import type { LaunchSpec } from './supervisor.js';

/** One process of the local stack, as `up`, `down` and `status` see it. */
export interface StackService {
  /** Stable name: `redis`, `kafka-1`…, `clickhouse`. Used for pid and log files. */
  readonly name: string;
  /** What a client connects to, printed by `up` and `status`. */
  readonly endpoint: string;
  /** A string in the process's command line that proves the pid is ours. */
  readonly marker: string;
  /** Writes config files and formats storage; idempotent. */
  prepare(): Promise<void>;
  /** How to start it (pid and log files included). */
  launchSpec(): LaunchSpec;
  /** True when it serves requests. */
  healthy(): Promise<boolean>;
  /** How long `up` waits for `healthy` before giving up. */
  readonly startTimeoutMs: number;
}
