/**
 * An error as one line with everything under it: kafkajs wraps the last
 * attempt's error in `cause`/`originalError`, @platformatic/kafka nests
 * `MultipleErrors` (an AggregateError: `errors[]`, `code` PLT_KFK_*) per
 * retry and per broker. Both hide the root cause behind a generic message
 * ("Producing messages failed."), which is useless in a report.
 */
interface ErrorLike {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly name?: unknown;
  readonly errors?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

/** `message [code] ← cause` and `{a; b}` for aggregated errors (distinct ones, at most `width`). */
export function errorChain(error: unknown, depth = 5, width = 4): string {
  if (error === null || typeof error !== 'object') return String(error);
  const e = error as ErrorLike;
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? ` [${e.code}]` : '';
  let text = `${typeof e.message === 'string' && e.message !== '' ? e.message : String(e.name ?? 'Error')}${code}`;
  if (depth === 0) return text;
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    const inner = [...new Set(e.errors.map((x) => errorChain(x, depth - 1, width)))];
    const more = inner.length > width ? `; … ${inner.length - width} more` : '';
    text += ` {${inner.slice(0, width).join('; ')}${more}}`;
  }
  const cause = e.cause ?? e.originalError;
  if (cause !== undefined && cause !== null) text += ` ← ${errorChain(cause, depth - 1, width)}`;
  return text;
}
