/**
 * What ingest and the publisher said about themselves during the run, from
 * their pino logs in the run directory: error codes counted, and the
 * publisher's reasons for not publishing (the latest few, distinct).
 */
import { readFile } from 'node:fs/promises';

export interface LogFindings {
  /** `code` field → lines (e.g. SAYLAU_ERR_DEDUP_ABORT), plus `msg` for lines without a code at warn and up. */
  readonly codes: Record<string, number>;
  /** Distinct messages of failed snapshots, newest last. */
  readonly refusals: readonly string[];
}

interface Line {
  readonly level?: number;
  readonly time?: string;
  readonly code?: string;
  readonly msg?: string;
  readonly err?: { readonly message?: string };
}

function* lines(text: string): Generator<Line> {
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      yield JSON.parse(raw) as Line;
    } catch {
      // a line cut by a kill -9
    }
  }
}

export async function readLogFindings(file: string): Promise<LogFindings> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const codes: Record<string, number> = {};
  const refusals: string[] = [];
  for (const line of lines(text)) {
    if ((line.level ?? 0) < 40) continue;
    const key = line.code ?? line.msg ?? 'unknown';
    codes[key] = (codes[key] ?? 0) + 1;
    if (line.msg === 'snapshot not published; will retry') {
      const reason = `${line.code ?? '?'}: ${(line.err?.message ?? '').slice(0, 300)}`;
      const at = refusals.indexOf(reason);
      if (at !== -1) refusals.splice(at, 1);
      refusals.push(reason);
    }
  }
  return { codes, refusals: refusals.slice(-5) };
}

/** Snapshot refusals (any reason) the publisher logged at or after `sinceMs`. */
export async function refusalsSince(file: string, sinceMs: number): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of lines(text)) {
    if (line.msg !== 'snapshot not published; will retry') continue;
    if (Date.parse(line.time ?? '') >= sinceMs)
      out.push(`${line.code ?? '?'}: ${(line.err?.message ?? '').slice(0, 300)}`);
  }
  return out;
}
