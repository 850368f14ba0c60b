/**
 * What really happened, from the voters' own history files (`../chaos/history.ts`):
 * for each voter who got a credential and whose cast was acknowledged, the
 * voterHash, the district, when the credential was issued and when the cast
 * was sent, and the ballotId. This lives in the harness's memory and its run
 * directory only; the system under test never sees it, and the report gives
 * only counts and rates, never a voter next to a ballot.
 */
import { readHistory } from '../chaos/history.js';

export interface Truth {
  readonly voterHash: string;
  readonly district: string;
  readonly region: string;
  /** When the credential's answer arrived, ms after the run's start. */
  readonly issuedMs: number;
  /** When the first attempt of the cast left the voter, ms after the start. */
  readonly castMs: number;
  readonly ballotId: string;
}

interface Partial {
  issuedMs: number | null;
  ballotId: string | null;
}

/**
 * Voters with exactly one credential and an acknowledged cast. `districtOf`
 * maps a voterHash to its district and region (the harness made the roll).
 */
export async function readTruth(
  files: readonly string[],
  districtOf: ReadonlyMap<string, { district: string; region: string }>,
): Promise<Truth[]> {
  const voters = new Map<string, Partial>();
  const firstSend = new Map<string, number>();
  const acked = new Set<string>();
  for await (const r of readHistory(files)) {
    if (r.k === 'issue' && r.o === 'ok' && r.d === 1) {
      const v = voters.get(r.v) ?? { issuedMs: null, ballotId: null };
      v.issuedMs ??= r.t;
      voters.set(r.v, v);
    } else if (r.k === 'cred' && r.d === 1) {
      const v = voters.get(r.v) ?? { issuedMs: null, ballotId: null };
      v.ballotId = r.id;
      voters.set(r.v, v);
    } else if (r.k === 'cast') {
      const sent = r.t - r.ms;
      const before = firstSend.get(r.id);
      if (before === undefined || sent < before) firstSend.set(r.id, sent);
      if (r.o === 'ok') acked.add(r.id);
    }
  }
  const out: Truth[] = [];
  for (const [voterHash, v] of voters) {
    const where = districtOf.get(voterHash);
    if (v.issuedMs === null || v.ballotId === null || where === undefined || !acked.has(v.ballotId)) continue;
    out.push({
      voterHash,
      district: where.district,
      region: where.region,
      issuedMs: v.issuedMs,
      castMs: firstSend.get(v.ballotId)!,
      ballotId: v.ballotId,
    });
  }
  return out.sort((a, b) => a.castMs - b.castMs);
}
