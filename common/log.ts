import pino, { type Logger } from 'pino';

/**
 * The root logger for a process. Services make child loggers with bindings;
 * by the secrecy promise no ballot or identity field is ever a binding.
 */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

export type { Logger };

/**
 * What of an error may be logged: its type, message and code, and the
 * Kafka error names inside an aggregate (e.g. OFFSET_OUT_OF_RANGE). Client
 * errors carry what must not reach the logs: ioredis attaches `command.args`
 * (keys with voter hashes and ballot ids), @platformatic/kafka a whole
 * `response` (record batches) (DESIGN §1.3).
 */
export function loggableError(error: unknown): {
  type: string;
  message: string;
  code: string | null;
  kafka?: string[];
} {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error), code: null };
  const code = (error as { code?: unknown }).code;
  const out = { type: error.name, message: error.message, code: typeof code === 'string' ? code : null };
  const kafka = kafkaErrorNames(error);
  return kafka.length > 0 ? { ...out, kafka } : out;
}

/** The Kafka protocol error names (`apiId`) an error or its aggregate holds, each once. */
export function kafkaErrorNames(error: unknown): string[] {
  const names = new Set<string>();
  const inner = error instanceof AggregateError ? error.errors : [error];
  for (const e of inner) {
    const id = (e as { apiId?: unknown } | null)?.apiId;
    if (typeof id === 'string') names.add(id);
  }
  return [...names];
}
