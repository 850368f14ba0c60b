import pino, { type Logger } from 'pino';

/**
 * The root logger for a process. Services make child loggers with bindings;
 * by the secrecy promise no ballot or identity field is ever a binding.
 */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

export type { Logger };
