/**
 * API v1 through real ingest processes against the real stack: the voter's
 * happy path (RFC 9474 client side by @cloudflare/blindrsa-ts), idempotent
 * retries, one credential per voter and one ballot per credential (also
 * under 500 concurrent casts), every error code from a bad input with nothing
 * written to Kafka, record secrecy, batching, the session channel and a
 * graceful shutdown that loses no acknowledged ballot.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../common/records.js';
import {
  ballotBytes,
  type ElectionIndex,
  issueDevToken,
  type Manifest,
  readKeys,
} from '../election/index.js';
import { CAST_BODY_BYTES } from '../ingest/http/fixed-length.js';
import {
  api,
  forgetElection,
  type Ingest,
  offsetsOf,
  outputDir,
  prepareElection,
  readRecords,
  startIngest,
  VoterClient,
  validSelections,
} from './ingest.harness.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_481);
const ELECTION = `ingest-api-${Date.now().toString(36)}`;
const kafka = kafkaClient('ingest-api-test');
const redis = new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: true });

let ingest: Ingest;
let index: ElectionIndex;
let electionPath: string;
let client: VoterClient;
let members: { memberId: string; district: string }[] = [];
let nextMember = 0;

/** A roll member nobody in this run has used yet. */
function freshMember(): { memberId: string; district: string } {
  const member = members[nextMember++];
  if (member === undefined) throw new Error('out of roll members');
  return member;
}

beforeAll(async () => {
  ({ index, path: electionPath } = await prepareElection(ELECTION, 20_000));
  await redis.connect();
  ingest = await startIngest({ election: electionPath, port: PORT, processes: 1 });
  client = new VoterClient(ingest.base, index.id);
  const page = await api(ingest.base, 'GET', `/v1/dev/members?election=${index.id}&limit=1000`);
  members = page.body.members;
}, 300_000);

afterAll(async () => {
  await ingest?.stop();
  redis.disconnect();
  await forgetElection(config, ELECTION);
});

async function castBody(memberId: string, district: string, pick = 0) {
  const credential = await client.credential(memberId, district);
  return {
    election: index.id,
    district: credential.district,
    credential: { message: credential.message, signature: credential.signature },
    selections: validSelections(index, credential.district, pick),
  };
}

describe('the voter happy path', () => {
  it('lists the election and serves the manifest with an ETag', async () => {
    const list = await api(ingest.base, 'GET', '/v1/elections');
    expect(list.status).toBe(200);
    expect(list.body.elections).toEqual([
      { id: index.id, name: index.config.names, opens: index.config.opens, closes: index.config.closes },
    ]);
    const manifest = await api(ingest.base, 'GET', `/v1/elections/${index.id}`);
    expect(manifest.status).toBe(200);
    expect(manifest.body.districts).toHaveLength(index.config.districts.length);
    const etag = manifest.headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    const again = await api(ingest.base, 'GET', `/v1/elections/${index.id}`, undefined, {
      'if-none-match': etag,
    });
    expect(again.status).toBe(304);
  });

  it("serves the summary and each district's slice, which hash to the summary's digests and are the manifest's parts", async () => {
    const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    // Decoded bytes, as a browser's fetch hands them to the page: what the digests are of.
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${ingest.base}${path}`, { headers });
      return { res, bytes: Buffer.from(await res.arrayBuffer()) };
    };
    const full = await get(`/v1/elections/${index.id}`);
    const manifest = JSON.parse(full.bytes.toString()) as Manifest;
    const summary = await get(`/v1/elections/${index.id}/summary`, { 'accept-encoding': 'br, gzip' });
    expect(summary.res.status).toBe(200);
    expect(summary.res.headers.get('content-encoding')).toBe('br');
    expect(summary.res.headers.get('cache-control')).toBe('no-cache');
    expect(summary.res.headers.get('vary')).toBe('accept-encoding');
    const s = JSON.parse(summary.bytes.toString());
    expect(Object.keys(s)).not.toContain('races');
    expect(s.manifestDigest).toBe(sha256(full.bytes));
    expect(s.ballotBytes).toBe(ballotBytes(manifest));
    expect(s.snapshotKey).toEqual(manifest.snapshotKey);
    expect(s.regions).toEqual(manifest.regions.map((r) => ({ code: r.code, names: r.names })));
    expect(s.districts.map((d: { id: string }) => d.id)).toEqual(manifest.districts.map((d) => d.id));
    expect(summary.bytes.length).toBeLessThan(full.bytes.length / 4);

    for (const entry of manifest.districts) {
      const slice = await get(`/v1/elections/${index.id}/districts/${entry.id}`, {
        'accept-encoding': 'gzip',
      });
      expect(slice.res.status).toBe(200);
      expect(slice.res.headers.get('content-encoding')).toBe('gzip');
      expect(slice.res.headers.get('cache-control')).toBe('no-cache');
      expect(sha256(slice.bytes)).toBe(s.districts.find((d: { id: string }) => d.id === entry.id).digest);
      const body = JSON.parse(slice.bytes.toString());
      expect(body.election).toBe(index.id);
      expect(body.district).toEqual(entry);
      expect(body.races).toEqual(entry.races.map((id) => manifest.races.find((r) => r.id === id)));
      const branches = new Set(
        body.races.flatMap((r: Manifest['races'][number]) => r.candidates.map((c) => c.partyBranch)),
      );
      expect(body.partyBranches).toEqual(manifest.partyBranches.filter((b) => branches.has(b.id)));
    }

    const first = manifest.districts[0]!.id;
    const etag = (await get(`/v1/elections/${index.id}/districts/${first}`)).res.headers.get('etag')!;
    const again = await get(`/v1/elections/${index.id}/districts/${first}`, { 'if-none-match': etag });
    expect(again.res.status).toBe(304);
    for (const path of [
      `/v1/elections/${index.id}/districts/D-NOPE`,
      '/v1/elections/nope/districts/D-NOPE',
      '/v1/elections/nope/summary',
    ]) {
      const missing = await api(ingest.base, 'GET', path);
      expect([missing.status, missing.body.error.code], path).toEqual([404, 'not_found']);
    }
  });

  it('issues a credential, casts, repeats idempotently and tracks the receipt to counted', async () => {
    const before = await offsetsOf(kafka, TOPICS.ballots);
    const member = freshMember();
    const ballot = await castBody(member.memberId, member.district);
    const first = await api(ingest.base, 'POST', '/v1/ballots', ballot);
    expect(first.status).toBe(201);
    expect(first.bytes).toBe(CAST_BODY_BYTES);
    expect(first.body.receipt).toMatch(/^[A-Z2-7]{5}-[A-Z2-7]{5}(-[A-Z2-7]{4}){4}$/);
    const retry = await api(ingest.base, 'POST', '/v1/ballots', ballot);
    expect(retry.status).toBe(200);
    expect(retry.body.receipt).toBe(first.body.receipt);
    const other = await api(ingest.base, 'POST', '/v1/ballots', {
      ...ballot,
      selections: validSelections(index, ballot.district, 1),
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('credential_already_used');
    expect(other.bytes).toBe(CAST_BODY_BYTES);

    const accepted = await api(ingest.base, 'GET', `/v1/receipts/${first.body.receipt}`);
    expect(accepted.body).toEqual({ status: 'accepted' });

    // The record: no identity, minute timestamp, the region's own partition, written once.
    const records = await readRecords(
      kafka,
      TOPICS.ballots,
      before,
      (v) => v.ballotId === first.body.ballotId,
    );
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(Object.keys(record.value).sort()).toEqual(
      ['ballotHash', 'ballotId', 'bucket', 'district', 'election', 'region', 'rev', 'selections', 'v'].sort(),
    );
    expect(JSON.stringify(record.value)).not.toContain(member.memberId);
    expect(Number(record.timestamp) % 60_000).toBe(0);
    expect(record.value.bucket * 1000).toBe(Number(record.timestamp));
    expect(index.partitionsFor(record.value.region)).toContain(record.partition);

    // The publisher lists it: the lookup module picks the codes file up on its timer.
    const publicDir = join(outputDir, 'public');
    mkdirSync(join(publicDir, 'codes'), { recursive: true });
    const seq = Date.now();
    writeFileSync(join(publicDir, 'codes', `${seq}.txt`), `${first.body.ballotId}\n`);
    writeFileSync(join(publicDir, 'latest.json'), JSON.stringify({ seq }));
    let counted = accepted;
    for (let i = 0; i < 30 && counted.body.status !== 'counted'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      counted = await api(ingest.base, 'GET', `/v1/receipts/${first.body.ballotId}`);
    }
    expect(counted.body).toEqual({ status: 'counted', snapshot: seq });
  });

  it('returns the same blind signature for the same blinded message, and refuses a second one', async () => {
    const member = freshMember();
    const token = await client.login(member.memberId);
    const key = await client.districtKey(member.district);
    const { blindedMsg } = await client.blind(key);
    const body = { election: index.id, blindedMessage: Buffer.from(blindedMsg).toString('base64url') };
    const auth = { authorization: `Bearer ${token}` };
    const before = await offsetsOf(kafka, TOPICS.issuance);
    const first = await api(ingest.base, 'POST', '/v1/credentials', body, auth);
    expect(first.status).toBe(200);
    expect(first.body.district).toBe(member.district);
    const again = await api(ingest.base, 'POST', '/v1/credentials', body, auth);
    expect(again.status).toBe(200);
    expect(again.body.blindSignature).toBe(first.body.blindSignature);
    // One issuance record for this voter, written before the first answer; the retry adds none.
    const issued = await readRecords(kafka, TOPICS.issuance, before, (v) => v.election === index.id);
    expect(issued).toHaveLength(1);
    expect(issued[0]!.value).toMatchObject({ district: member.district, channel: 'online' });
    expect(Number(issued[0]!.timestamp) % 60_000).toBe(0);
    const other = await client.blind(key);
    const second = await api(
      ingest.base,
      'POST',
      '/v1/credentials',
      { election: index.id, blindedMessage: Buffer.from(other.blindedMsg).toString('base64url') },
      auth,
    );
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('credential_already_issued');
  });
});

describe('one credential, one ballot', () => {
  it('writes exactly one ballot for 500 concurrent casts of one credential', async () => {
    const member = freshMember();
    const ballot = await castBody(member.memberId, member.district);
    const before = await offsetsOf(kafka, TOPICS.ballots);
    const variants = [ballot, { ...ballot, selections: validSelections(index, ballot.district, 1) }];
    const responses = await Promise.all(
      Array.from({ length: 500 }, (_, i) => api(ingest.base, 'POST', '/v1/ballots', variants[i % 2])),
    );
    const created = responses.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of responses) {
      expect([200, 201, 409, 503]).toContain(r.status);
      expect(r.bytes).toBe(CAST_BODY_BYTES);
    }
    const ballotId = created[0]!.body.ballotId;
    const records = await readRecords(kafka, TOPICS.ballots, before, (v) => v.ballotId === ballotId);
    expect(records).toHaveLength(1);
  });

  it('batches records from concurrent requests into one produce', async () => {
    const ballots = await Promise.all(
      Array.from({ length: 40 }, () => freshMember()).map((m) => castBody(m.memberId, m.district)),
    );
    const responses = await Promise.all(ballots.map((b) => api(ingest.base, 'POST', '/v1/ballots', b)));
    for (const r of responses) expect(r.status).toBe(201);
    const metrics = (await api(ingest.ops, 'GET', '/metrics')).body as string;
    const sum = Number(/saylau_kafka_produce_batch_size_sum\{topic="ballots"\} (\d+)/.exec(metrics)?.[1]);
    const count = Number(/saylau_kafka_produce_batch_size_count\{topic="ballots"\} (\d+)/.exec(metrics)?.[1]);
    expect(sum / count).toBeGreaterThan(1);
    // Some batch held more than one record.
    const le1 = Number(
      /saylau_kafka_produce_batch_size_bucket\{le="1",topic="ballots"\} (\d+)/.exec(metrics)?.[1],
    );
    expect(le1).toBeLessThan(count);
  });
});

describe('every refusal has its code, and nothing reaches Kafka', () => {
  let closed: Ingest;
  let ballotsBefore: Map<number, string>;
  let issuanceBefore: Map<number, string>;

  beforeAll(async () => {
    // The same election, closed, on a second process with a budget of one request in flight.
    const raw = JSON.parse(readFileSync(electionPath, 'utf8'));
    const closedPath = join(outputDir, `${ELECTION}-closed.json`);
    writeFileSync(closedPath, JSON.stringify({ ...raw, closes: '2020-06-01T00:00:00Z' }));
    closed = await startIngest({
      election: closedPath,
      port: PORT + 100,
      processes: 1,
      env: { INGEST_MAX_IN_FLIGHT: '1' },
    });
    ballotsBefore = await offsetsOf(kafka, TOPICS.ballots);
    issuanceBefore = await offsetsOf(kafka, TOPICS.issuance);
  }, 120_000);

  afterAll(async () => {
    await closed?.stop();
  });

  const code = (r: { body: { error?: { code: string } } }) => r.body.error?.code;

  it('bad_request, payload_too_large, not_found', async () => {
    const bad = await api(ingest.base, 'POST', '/v1/ballots', '{not json');
    expect([bad.status, code(bad), bad.bytes]).toEqual([400, 'bad_request', CAST_BODY_BYTES]);
    const schema = await api(ingest.base, 'POST', '/v1/ballots', { election: index.id });
    expect([schema.status, code(schema)]).toEqual([400, 'bad_request']);
    const huge = await api(ingest.base, 'POST', '/v1/ballots', { election: index.id, pad: ' '.repeat(9000) });
    expect([huge.status, code(huge)]).toEqual([413, 'payload_too_large']);
    const receipt = await api(ingest.base, 'GET', '/v1/receipts/nonsense');
    expect([receipt.status, code(receipt)]).toEqual([400, 'bad_request']);
    const missing = await api(ingest.base, 'GET', '/v1/elections/nope');
    expect([missing.status, code(missing)]).toEqual([404, 'not_found']);
    const path = await api(ingest.base, 'GET', '/v2/anything');
    expect([path.status, code(path)]).toEqual([404, 'not_found']);
    const unknownReceipt = await api(ingest.base, 'GET', `/v1/receipts/${'A'.repeat(26)}`);
    expect([unknownReceipt.status, code(unknownReceipt)]).toEqual([404, 'not_found']);
  });

  it('unauthorized, not_eligible', async () => {
    const body = { election: index.id, blindedMessage: 'AAAA' };
    const none = await api(ingest.base, 'POST', '/v1/credentials', body);
    expect([none.status, code(none)]).toEqual([401, 'unauthorized']);
    const forged = await api(ingest.base, 'POST', '/v1/credentials', body, { authorization: 'Bearer a.b.c' });
    expect([forged.status, code(forged)]).toEqual([401, 'unauthorized']);
    // A validly signed token for someone who is not on the roll.
    const keys = await readKeys(config.stackDir, index.id);
    const district = index.config.districts[0]!.id;
    const token = await issueDevToken(keys, index, '999999999999', { district });
    const key = await client.districtKey(district);
    const { blindedMsg } = await client.blind(key);
    const outsider = await api(
      ingest.base,
      'POST',
      '/v1/credentials',
      { election: index.id, blindedMessage: Buffer.from(blindedMsg).toString('base64url') },
      { authorization: `Bearer ${token}` },
    );
    expect([outsider.status, code(outsider)]).toEqual([403, 'not_eligible']);
  });

  it('invalid_credential, invalid_selection', async () => {
    const member = freshMember();
    const ballot = await castBody(member.memberId, member.district);
    const forged = {
      ...ballot,
      credential: {
        ...ballot.credential,
        signature: ballot.credential.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      },
    };
    const r1 = await api(ingest.base, 'POST', '/v1/ballots', forged);
    expect([r1.status, code(r1), r1.bytes]).toEqual([403, 'invalid_credential', CAST_BODY_BYTES]);
    const otherDistrict = index.config.districts.find((d) => d.id !== ballot.district)!.id;
    const wrongKey = await api(ingest.base, 'POST', '/v1/ballots', {
      ...ballot,
      district: otherDistrict,
      selections: validSelections(index, otherDistrict),
    });
    expect([wrongKey.status, code(wrongKey)]).toEqual([403, 'invalid_credential']);
    const r2 = await api(ingest.base, 'POST', '/v1/ballots', {
      ...ballot,
      selections: [{ race: 'R-NOPE', choices: [] }],
    });
    expect([r2.status, code(r2), r2.bytes]).toEqual([422, 'invalid_selection', CAST_BODY_BYTES]);
    const race = ballot.selections[0]!;
    const twice = await api(ingest.base, 'POST', '/v1/ballots', {
      ...ballot,
      selections: [{ race: race.race, choices: [race.choices[0]!, race.choices[0]!] }],
    });
    expect([twice.status, code(twice)]).toEqual([422, 'invalid_selection']);
  });

  it('election_closed, overloaded', async () => {
    const member = freshMember();
    const ballot = await castBody(member.memberId, member.district);
    const r = await api(closed.base, 'POST', '/v1/ballots', ballot);
    expect([r.status, code(r), r.bytes]).toEqual([403, 'election_closed', CAST_BODY_BYTES]);
    const token = await client.login(freshMember().memberId);
    const c = await api(
      closed.base,
      'POST',
      '/v1/credentials',
      { election: index.id, blindedMessage: 'AAAA' },
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect([c.status, code(c)]).toEqual([403, 'election_closed']);
    // Token verification is asynchronous, so a burst overlaps and the budget of one is exceeded.
    const burst = await Promise.all(
      Array.from({ length: 60 }, () =>
        api(
          closed.base,
          'POST',
          '/v1/credentials',
          { election: index.id, blindedMessage: 'AAAA' },
          {
            authorization: `Bearer ${token}`,
          },
        ),
      ),
    );
    const shed = burst.filter((x) => x.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const s of shed) {
      expect(code(s)).toBe('overloaded');
      expect(Number(s.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    for (const x of burst) expect([403, 503]).toContain(x.status);
  });

  it('credential_already_issued, credential_already_used (above) — and no record was written', async () => {
    // The stack is shared with other work, so records are told apart by this test's election id.
    const mine = (v: { election?: string }) => v.election === index.id;
    expect(await readRecords(kafka, TOPICS.ballots, ballotsBefore, mine)).toHaveLength(0);
    // castBody() above issued credentials legitimately: one issuance record each, nothing more.
    expect(await readRecords(kafka, TOPICS.issuance, issuanceBefore, mine)).toHaveLength(2);
  });
});

interface MiniSocket {
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  send(text: string): void;
  close(): void;
}

describe('the session channel', () => {
  it('pushes status and a queue position', async () => {
    const require = createRequire(import.meta.url);
    // `ws` is installed with the uWebSockets.js package; Node 20 has no global WebSocket.
    const { WebSocket } = require('ws') as { WebSocket: new (url: string) => MiniSocket };
    const socket = new WebSocket(`ws://127.0.0.1:${PORT}/v1/session`);
    const messages: { type: string; open?: boolean; queue?: { ticket: number; position: number } }[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('message', (data) => {
        messages.push(JSON.parse(String(data)));
        if (messages.length === 1) socket.send('{"type":"queue"}');
        if (messages.length === 2) resolve();
      });
    });
    socket.close();
    expect(messages[0]).toMatchObject({ type: 'status', election: index.id, open: true });
    expect(messages[1]!.queue!.ticket).toBeGreaterThan(0);
    expect(messages[1]!.queue!.position).toBeGreaterThanOrEqual(0);
  });
});

describe('health and shutdown', () => {
  it('reports health, readiness and metrics', async () => {
    expect((await api(ingest.ops, 'GET', '/healthz')).status).toBe(200);
    const ready = await api(ingest.ops, 'GET', '/readyz');
    expect(ready.body.checks).toMatchObject({ redis: true, kafka: true, keys: true, draining: false });
    const metrics = (await api(ingest.ops, 'GET', '/metrics')).body as string;
    for (const name of [
      'saylau_http_requests_total',
      'saylau_http_request_duration_seconds',
      'saylau_http_in_flight',
      'saylau_kafka_produce_duration_seconds',
      'saylau_redis_command_duration_seconds',
      'saylau_crypto_pool_queue_depth',
      'saylau_sessions_open',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('drains on SIGTERM: every acknowledged ballot is in Kafka and the exit code is 0', async () => {
    const ballots = await Promise.all(
      Array.from({ length: 30 }, () => freshMember()).map((m) => castBody(m.memberId, m.district)),
    );
    const before = await offsetsOf(kafka, TOPICS.ballots);
    const pending = ballots.map((b) => api(ingest.base, 'POST', '/v1/ballots', b).catch(() => null));
    await new Promise((r) => setTimeout(r, 5));
    const exit = ingest.stop();
    const responses = await Promise.all(pending);
    expect(await exit).toBe(0);
    const acknowledged = responses.filter((r) => r !== null && (r.status === 201 || r.status === 200));
    const ids = new Set(acknowledged.map((r) => r!.body.ballotId as string));
    const records = await readRecords(kafka, TOPICS.ballots, before, (v) => ids.has(v.ballotId));
    expect(new Set(records.map((r) => r.value.ballotId))).toEqual(ids);
  });
});
