/**
 * Abuse limits (issue 14) through real ingest processes: an identical
 * issuance retry is answered without a private-key operation; the crypto
 * queue is bounded (503 overloaded + Retry-After); issuance is limited per
 * identity token and per source address (429 rate_limited + Retry-After)
 * while the default lets a polling station behind one address through; a
 * slow body holds no admission slot and times out; operations endpoints
 * answer on the operations port only; Redis losing its data resets limits
 * and stored signatures and breaks nothing.
 *
 * Two ingests: A with the default limits (and a small in-flight budget for
 * the slow-body test), B with a tight address limit and a one-task crypto
 * queue (its queue test runs before its address test uses up the address).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElectionIndex } from '../election/index.js';
import {
  api,
  childPids,
  forgetElection,
  type Ingest,
  prepareElection,
  startIngest,
  VoterClient,
} from './ingest.harness.js';
import { testPort } from './support/ports.js';
import { config } from './support/stack.js';

const PORT_A = testPort(18_488);
const PORT_B = testPort(18_489);
const ELECTION = `ingest-abuse-${Date.now().toString(36)}`;
const IN_FLIGHT_A = 4;
const BODY_TIMEOUT_MS = 3_000;
const ADDRESS_BURST_B = 40;

let a: Ingest;
let b: Ingest;
let index: ElectionIndex;
let members: { memberId: string; district: string }[] = [];
let nextMember = 0;

function freshMember(): { memberId: string; district: string } {
  const member = members[nextMember++];
  if (member === undefined) throw new Error('out of roll members');
  return member;
}

/** One voter's issuance request, ready to send (and resend identically). */
async function issuanceRequest(base: string): Promise<{ body: unknown; headers: Record<string, string> }> {
  const voter = new VoterClient(base, index.id);
  const member = freshMember();
  const token = await voter.login(member.memberId);
  const { blindedMsg } = await voter.blind(await voter.districtKey(member.district));
  return {
    body: { election: index.id, blindedMessage: Buffer.from(blindedMsg).toString('base64url') },
    headers: { authorization: `Bearer ${token}` },
  };
}

function issue(base: string, request: { body: unknown; headers: Record<string, string> }) {
  return api(base, 'POST', '/v1/credentials', request.body, request.headers);
}

/** A counter's value from a `/metrics` scrape (0 when the series is absent). */
async function counter(ingest: Ingest, series: string): Promise<number> {
  const text = (await api(ingest.ops, 'GET', '/metrics')).body as string;
  const escaped = series.replace(/[{}]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

beforeAll(async () => {
  const prepared = await prepareElection(ELECTION, 3_000);
  index = prepared.index;
  [a, b] = await Promise.all([
    startIngest({
      election: prepared.path,
      port: PORT_A,
      env: { INGEST_MAX_IN_FLIGHT: String(IN_FLIGHT_A), INGEST_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) },
    }),
    startIngest({
      election: prepared.path,
      port: PORT_B,
      env: {
        INGEST_CRYPTO_MAX_QUEUE: '1',
        INGEST_ISSUE_ADDRESS_PER_MIN: '60',
        INGEST_ISSUE_ADDRESS_BURST: String(ADDRESS_BURST_B),
      },
    }),
  ]);
  const page = await api(a.base, 'GET', `/v1/dev/members?election=${index.id}&limit=1000`);
  members = page.body.members;
}, 300_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await forgetElection(config, ELECTION);
});

describe('operations endpoints', () => {
  it('answer on the operations port and 404 on the voting port', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const voting = await api(a.base, 'GET', path);
      expect(voting.status, path).toBe(404);
      expect(voting.body.error.code).toBe('not_found');
      expect((await api(a.ops, 'GET', path)).status, path).toBe(200);
    }
    // The voting API is not on the operations port either.
    expect((await api(a.ops, 'GET', `/v1/elections/${index.id}`)).status).toBe(404);
  });
});

describe('identical issuance retries', () => {
  it('are answered with the stored signature, without signing again', async () => {
    const request = await issuanceRequest(a.base);
    const first = await issue(a.base, request);
    expect(first.status).toBe(200);
    const signs = await counter(a, 'saylau_crypto_blind_signs_total');
    const hits = await counter(a, 'saylau_credentials_signature_cache_total{result="hit"}');
    for (let i = 0; i < 3; i++) {
      const retry = await issue(a.base, request);
      expect(retry.status).toBe(200);
      expect(retry.body.blindSignature).toBe(first.body.blindSignature);
    }
    expect(await counter(a, 'saylau_crypto_blind_signs_total')).toBe(signs);
    expect(await counter(a, 'saylau_credentials_signature_cache_total{result="hit"}')).toBe(hits + 3);
  });

  it('are keyed by a host secret that no process environment holds (/proc/<pid>/environ outlives a delete)', () => {
    const supervisor = a.child.pid!;
    const workers = childPids(supervisor);
    expect(workers.length).toBeGreaterThan(0);
    for (const pid of [supervisor, ...workers]) {
      expect(readFileSync(`/proc/${pid}/environ`, 'latin1'), `pid ${pid}`).not.toMatch(/HOST_SECRET/);
    }
  });
});

describe('the crypto queue', () => {
  it('is bounded: past it, 503 overloaded with Retry-After, counted', async () => {
    // B: one crypto thread, one waiting task; 30 issuances confirmed in one batch reach the pool together.
    const requests = await Promise.all(Array.from({ length: 30 }, () => issuanceRequest(b.base)));
    const answers = await Promise.all(requests.map((r) => issue(b.base, r)));
    const overloaded = answers.filter((r) => r.status === 503 && r.body.error.code === 'overloaded');
    expect(overloaded.length, JSON.stringify(answers.map((r) => r.status))).toBeGreaterThan(0);
    expect(Number(overloaded[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await counter(b, 'saylau_crypto_queue_full_total')).toBe(overloaded.length);
    // The refused issuances are in the log: the identical retry is answered.
    const retried = requests[answers.indexOf(overloaded[0]!)]!;
    expect((await issue(b.base, retried)).status).toBe(200);
  });
});

describe('issuance limits', () => {
  it('refuses a token past its burst with 429 rate_limited and Retry-After; other voters pass', async () => {
    const request = await issuanceRequest(a.base);
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof issue>> | null = null;
    for (let i = 0; i < 8; i++) {
      const res = await issue(a.base, request);
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
    }
    // Burst 5 (INGEST_ISSUE_TOKEN_BURST), then one every 10 s.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(refused!.body.error.code).toBe('rate_limited');
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await counter(a, 'saylau_rate_limited_total{limit="token"}')).toBeGreaterThanOrEqual(3);
    expect((await issue(a.base, await issuanceRequest(a.base))).status).toBe(200);
  });

  it('lets a polling station behind one address issue to 150 voters at once by default', async () => {
    const statuses: number[] = [];
    // A few at a time: A's in-flight budget is small for the slow-body test.
    for (let i = 0; i < 150; i += IN_FLIGHT_A) {
      const batch = await Promise.all(Array.from({ length: IN_FLIGHT_A }, () => issuanceRequest(a.base)));
      statuses.push(...(await Promise.all(batch.map((r) => issue(a.base, r)))).map((r) => r.status));
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('refuses an address past its limit with 429 rate_limited, before the token is even checked', async () => {
    const before = await counter(b, 'saylau_rate_limited_total{limit="address"}');
    const bogus = {
      body: { election: index.id, blindedMessage: 'AA' },
      headers: { authorization: 'Bearer x.y.z' },
    };
    const answers = [];
    for (let i = 0; i < ADDRESS_BURST_B + 5; i++) answers.push(await issue(b.base, bogus));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(limited[0]!.body.error.code).toBe('rate_limited');
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await counter(b, 'saylau_rate_limited_total{limit="address"}')).toBe(before + limited.length);
  });
});

describe('request bodies', () => {
  /** Sends headers and half a body, then nothing: a slowloris client. */
  function slowBody(port: number): { socket: Socket; closed: Promise<string> } {
    const socket = connect(port, '127.0.0.1');
    socket.write(
      'POST /v1/credentials HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"election":',
    );
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
    socket.on('error', () => {
      // a reset after the 400 is the server closing, as intended
    });
    return { socket, closed };
  }

  it('a slow body holds no admission slot, and is cut off at the body timeout', async () => {
    const timeouts = await counter(a, 'saylau_http_body_timeouts_total');
    const slow = Array.from({ length: IN_FLIGHT_A * 2 }, () => slowBody(PORT_A));
    await new Promise((r) => setTimeout(r, 500));
    // Every slot would be held by now if bodies were read after admission.
    const res = await issue(a.base, await issuanceRequest(a.base));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const started = Date.now();
    const answers = await Promise.all(slow.map((s) => s.closed));
    expect(Date.now() - started).toBeLessThan(BODY_TIMEOUT_MS + 2_000);
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await counter(a, 'saylau_http_body_timeouts_total')).toBe(timeouts + slow.length);
  });
});

describe('Redis losing its data', () => {
  it('resets the limits and the stored signatures without breaking issuance', async () => {
    const request = await issuanceRequest(a.base);
    const first = await issue(a.base, request);
    expect(first.status).toBe(200);
    for (let i = 0; i < 5; i++) await issue(a.base, request);
    expect((await issue(a.base, request)).status).toBe(429);
    const redis = new Redis({ host: config.redis.host, port: config.redis.port });
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
    // The ledger notices, rebuilds its index from Kafka and turns ready again; the limiter and the cache need nothing.
    const ready = async (): Promise<boolean> => (await api(a.ops, 'GET', '/readyz')).status === 200;
    for (let i = 0; i < 50 && (await ready()); i++) await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 300 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 200));
    const signs = await counter(a, 'saylau_crypto_blind_signs_total');
    const again = await issue(a.base, request);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    // Raw RSA is deterministic: recomputed, the very same signature.
    expect(again.body.blindSignature).toBe(first.body.blindSignature);
    expect(await counter(a, 'saylau_crypto_blind_signs_total')).toBe(signs + 1);
  });
});
