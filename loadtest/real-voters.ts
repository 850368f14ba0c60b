/**
 * Voters through the whole real path, as the voter client does it:
 * dev login (identity token) → district key from the manifest → RFC 9474
 * blind (@cloudflare/blindrsa-ts) → POST /v1/credentials → finalize →
 * POST /v1/ballots. Every scenario runs some of these next to the bulk load,
 * so the receipts counted include credentials the real issuance path made.
 */
import { webcrypto } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { listSampleMembers } from '../election/index.js';
import type { RunElection } from './run-election.js';

export interface RealVoterResult {
  readonly voters: number;
  readonly receipts: number;
  /** The receipts (ballotIds) they were given. */
  readonly receiptIds: readonly string[];
  readonly failed: number;
  /** Up to five failure messages. */
  readonly failures: readonly string[];
}

/** Waits a refusal out at most this many times, as the web client does (`Retry-After`, capped). */
const MAX_WAITS = 5;
const MAX_WAIT_MS = 5_000;

/** POST; a `429 rate_limited` is waited out like the web client does, not counted as a failure. */
async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  for (let waits = 0; ; waits++) {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const parsed = { status: res.status, body: (await res.json()) as Record<string, unknown> };
    if (res.status !== 429 || waits === MAX_WAITS) return parsed;
    const afterSec = Number(res.headers.get('retry-after') ?? 1);
    await setTimeout(Math.min(MAX_WAIT_MS, Math.max(0, afterSec) * 1000));
  }
}

/** Runs `count` real voters, members taken from the end of the run's roll. */
export async function runRealVoters(
  run: RunElection,
  base: string,
  count: number,
  concurrency = 8,
): Promise<RealVoterResult> {
  const suite = RSABSSA.SHA384.PSS.Randomized();
  const size = run.index.config.sampleRoll?.size ?? 0;
  const members = listSampleMembers(run.index, Math.max(0, size - count), count);
  const manifest = (await (await fetch(`${base}/v1/elections/${run.index.id}`)).json()) as {
    districts: { id: string; key: { spki: string } }[];
  };
  const keys = new Map<string, webcrypto.CryptoKey>();
  for (const d of manifest.districts) {
    const spki = Buffer.from(d.key.spki, 'base64url');
    keys.set(
      d.id,
      await webcrypto.subtle.importKey('spki', spki, { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']),
    );
  }
  const receiptIds: string[] = [];
  let failed = 0;
  const failures: string[] = [];
  let next = 0;
  const vote = async (): Promise<void> => {
    while (next < members.length) {
      const member = members[next++]!;
      try {
        const login = await post(base, '/v1/dev/login', {
          election: run.index.id,
          memberId: member.memberId,
        });
        if (login.status !== 200) throw new Error(`login ${login.status}`);
        const key = keys.get(member.district)!;
        const prepared = suite.prepare(webcrypto.getRandomValues(new Uint8Array(32)));
        const { blindedMsg, inv } = await suite.blind(key, prepared);
        const issued = await post(
          base,
          '/v1/credentials',
          { election: run.index.id, blindedMessage: Buffer.from(blindedMsg).toString('base64url') },
          { authorization: `Bearer ${String(login.body.token)}` },
        );
        if (issued.status !== 200)
          throw new Error(`credential ${issued.status} ${JSON.stringify(issued.body)}`);
        const blindSig = Buffer.from(String(issued.body.blindSignature), 'base64url');
        const signature = await suite.finalize(key, prepared, blindSig, inv);
        const selections = run.index.racesOf(member.district).map((race) => ({
          race: race.id,
          choices: [race.candidates.find((c) => c.status === 'active')!.id],
        }));
        const cast = await post(base, '/v1/ballots', {
          election: run.index.id,
          district: member.district,
          credential: {
            message: Buffer.from(prepared).toString('base64url'),
            signature: Buffer.from(signature).toString('base64url'),
          },
          selections,
        });
        if (cast.status !== 201) throw new Error(`cast ${cast.status} ${JSON.stringify(cast.body)}`);
        receiptIds.push(String(cast.body.ballotId));
      } catch (err) {
        failed++;
        if (failures.length < 5) failures.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, vote));
  return { voters: members.length, receipts: receiptIds.length, receiptIds, failed, failures };
}
