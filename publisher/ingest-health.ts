/**
 * Reads the ingest processes' health beacons (`ingest:health:*`, written by
 * ingest/health-beacon.ts every 2 s with a 10 s expiry) and sums them for
 * the observers' feed: how many processes there are and how many of them
 * are accepting, paused or overloaded. A process is
 *   - overloaded when it refused a request with `503 overloaded` in the last 10 s;
 *   - paused when the election is not open as it sees it (paused, closed, not yet open);
 *   - accepting when open, not overloaded and rebuilding no region.
 * (A rebuilding process is in none of the three: its region's writes answer 503 rebuilding.)
 */
import type { Redis } from 'ioredis';

export const HEALTH_MATCH = 'ingest:health:*';

export interface IngestHealthSummary {
  readonly processes: number;
  readonly accepting: number;
  readonly paused: number;
  readonly overloaded: number;
}

interface Beacon {
  readonly phase?: unknown;
  readonly overloaded503Last10s?: unknown;
  readonly rebuilding?: unknown;
}

export async function readIngestHealth(redis: Redis): Promise<IngestHealthSummary> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', HEALTH_MATCH, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  const values = keys.length === 0 ? [] : await redis.mget(...new Set(keys));
  const summary = { processes: 0, accepting: 0, paused: 0, overloaded: 0 };
  for (const value of values) {
    const beacon = parse(value);
    if (beacon === null) continue; // expired between SCAN and MGET, or not a beacon
    summary.processes++;
    const overloaded = Number(beacon.overloaded503Last10s) > 0;
    if (overloaded) summary.overloaded++;
    if (beacon.phase !== 'open') summary.paused++;
    else if (!overloaded && Number(beacon.rebuilding) === 0) summary.accepting++;
  }
  return summary;
}

function parse(value: string | null): Beacon | null {
  if (value === null) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Beacon) : null;
  } catch {
    return null;
  }
}
