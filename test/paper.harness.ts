/**
 * Shared by the paper-channel test files: officials' dev tokens, a check-in
 * call, the sample roll's members by district, and "send until the answer is
 * final" (503/429 are retried, as the official's page and the bulk CLI do).
 */
import type { ElectionIndex, ElectionKeys } from '../election/index.js';
import { issueDevStaffToken, listSampleMembers } from '../election/index.js';
import { type ApiResponse, api } from './ingest.harness.js';

export interface Official {
  readonly id: string;
  readonly precinct: string;
  readonly district: string;
  readonly token: string;
}

/** A dev token for every official of every precinct. */
export async function officialsOf(index: ElectionIndex, keys: ElectionKeys): Promise<Official[]> {
  const officials: Official[] = [];
  for (const precinct of index.config.paperPrecincts) {
    for (const official of precinct.officials) {
      const token = await issueDevStaffToken(keys, index, {
        role: 'official',
        id: official.id,
        precinct: precinct.id,
      });
      officials.push({ id: official.id, precinct: precinct.id, district: precinct.district, token });
    }
  }
  return officials;
}

/** The first `count` members of the sample roll, grouped by district. */
export function membersByDistrict(index: ElectionIndex, count: number): Map<string, string[]> {
  const byDistrict = new Map<string, string[]>();
  for (let offset = 0; offset < count; offset += 1000) {
    for (const m of listSampleMembers(index, offset, Math.min(1000, count - offset))) {
      const list = byDistrict.get(m.district) ?? [];
      list.push(m.memberId);
      byDistrict.set(m.district, list);
    }
  }
  return byDistrict;
}

export function checkIn(base: string, election: string, token: string, memberId: string) {
  return api(
    base,
    'POST',
    '/v1/paper/check-ins',
    { election, memberId },
    { authorization: `Bearer ${token}` },
  );
}

/** Repeats `send` while the answer is retriable (503, 429), as real clients do. */
export async function untilFinal(send: () => Promise<ApiResponse>, attempts = 60): Promise<ApiResponse> {
  for (let i = 1; ; i++) {
    const res = await send();
    if ((res.status !== 503 && res.status !== 429) || i >= attempts) return res;
    const wait = Number(res.headers.get('retry-after') ?? '0') * 1000;
    await new Promise((r) => setTimeout(r, Math.min(Math.max(wait, 100), 2000)));
  }
}

/** The code of a refusal, or the status of a 200 check-in. */
export const outcomeOf = (res: ApiResponse): string =>
  res.status === 200 ? (res.body.status ?? 'ok') : (res.body?.error?.code ?? String(res.status));
