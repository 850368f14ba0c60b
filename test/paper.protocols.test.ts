/**
 * Precinct protocols through the real ingest, Redis and Kafka (issue 15):
 * an official of the precinct submits the protocol signed by the station key;
 * each refusal has its code and names the wrong line; a version is taken by
 * the first protocol (a different one is 409, a resend is repeated); a
 * correction needs a higher version and a reason; an observer's dissent is
 * stored in `paper` beside the protocol it is about.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../common/records.js';
import {
  type ElectionIndex,
  issueDevToken,
  listSampleMembers,
  readKeys,
  stationKeyPath,
} from '../election/index.js';
import { protocolCommand, signProtocol } from '../ingest/paper/protocol.js';
import { api, forgetElection, type Ingest, offsetsOf, readRecords, startIngest } from './ingest.harness.js';
import {
  preparePaperElection,
  protocolOf,
  signedProtocolOf,
  staffToken,
  stationKey,
} from './paper.support.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_741);
const ELECTION = `paper-protocols-${Date.now().toString(36)}`;
const P = 'P-10-1';
const OPEN = 'P-10-2';

let index: ElectionIndex;
let ingest: Ingest;
let kafka: Kafka;
let official: string;
let since: Map<number, string>;

const submit = (protocol: unknown, token = official) =>
  api(ingest.base, 'POST', '/v1/paper/protocols', protocol, { authorization: `Bearer ${token}` });

beforeAll(async () => {
  let path: string;
  ({ index, path } = await preparePaperElection(ELECTION, [OPEN]));
  kafka = kafkaClient();
  since = await offsetsOf(kafka, TOPICS.paper);
  // Dissents: the observer limit at its smallest burst that the dissent test's own notes fit in.
  ingest = await startIngest({
    election: path,
    port: PORT,
    env: { INGEST_PAPER_OBSERVER_BURST: '4', INGEST_PAPER_OBSERVER_PER_MIN: '1' },
  });
  official = await staffToken(index, { role: 'official', id: 'O-10-1-a', precinct: P });
}, 300_000);

afterAll(async () => {
  await ingest?.stop();
  await forgetElection(config, ELECTION);
});

describe('POST /v1/paper/protocols', () => {
  it('accepts a signed protocol of a closed precinct (201), and its resend as repeated (200)', async () => {
    const protocol = await signedProtocolOf(index, P, { issued: 40, spoiled: 2, unused: 60 });
    const first = await submit(protocol);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toEqual({ status: 'accepted', precinct: P, version: 1 });
    const again = await submit(
      protocol,
      await staffToken(index, { role: 'official', id: 'O-10-1-b', precinct: P }),
    );
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('repeated');
  });

  it('refuses a protocol not signed by the station key, or changed after signing', async () => {
    const other = signProtocol(protocolOf(index, P, { issued: 40 }), await stationKey(index, 'P-10-3'));
    const wrongKey = await submit(other);
    expect(wrongKey.status).toBe(403);
    expect(wrongKey.body.error.code).toBe('protocol_signature_invalid');
    expect(wrongKey.body.error.message).toMatch(/^keyId/);
    const signed = await signedProtocolOf(index, P, { issued: 40 });
    const tampered = await submit({ ...signed, issued: 41 });
    expect(tampered.status).toBe(403);
    expect(tampered.body.error.code).toBe('protocol_signature_invalid');
  });

  it('refuses candidates of another race, a missing candidate and sums that cannot be, naming the line', async () => {
    const district = index.config.paperPrecincts.find((p) => p.id === P)!.district;
    const races = index.racesOf(district);
    const foreign = index.config.races.find((r) => !races.some((own) => own.id === r.id))!;
    const base = protocolOf(index, P, { version: 3, reason: 'test', issued: 40 });
    const cases: [typeof base.results, RegExp][] = [
      [
        base.results.map((r, i) => (i === 1 ? ([r[0], foreign.candidates[0]!.id, r[2]] as const) : r)),
        /^results\[1\]\[1\]: .* is not a candidate of race/,
      ],
      [
        [...base.results, [foreign.id, foreign.candidates[0]!.id, '0']],
        /^results\[\d+\]\[0\]: race .* is not on district/,
      ],
      [base.results.slice(1), new RegExp(`^results: race ${races[0]!.id} lacks candidate`)],
      [
        base.results.map((r, i) => (i === 0 ? ([r[0], r[1], '1000'] as const) : r)),
        /^results: race .*: 1000 votes > \(issued 40 − spoiled 0\)/,
      ],
      [
        base.results.map((r, i) => (i === 0 ? ([r[0], r[1], '-4'] as const) : r)),
        /^results\[0\]\[2\]: "-4" is not a count/,
      ],
      [[base.results[0]!, ...base.results], /^results\[1\]: .* is listed twice/],
    ];
    for (const [results, message] of cases) {
      const res = await submit(signProtocol({ ...base, results }, await stationKey(index, P)));
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.error.code).toBe('protocol_invalid');
      expect(res.body.error.message).toMatch(message);
    }
    const spoiled = await submit(
      await signedProtocolOf(index, P, { version: 3, reason: 'x', issued: 5, spoiled: 6, votes: () => 0 }),
    );
    expect(spoiled.body.error).toMatchObject({
      code: 'protocol_invalid',
      message: 'spoiled: 6 spoiled of 5 issued',
    });
  });

  it('takes a version once: a different protocol of version 1 is 409 protocol_version_taken', async () => {
    const res = await submit(await signedProtocolOf(index, P, { issued: 41 }));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('protocol_version_taken');
  });

  it('takes a correction as a higher version with a reason, and refuses one without', async () => {
    const noReason = await submit(await signedProtocolOf(index, P, { version: 2, issued: 41 }));
    expect(noReason.status).toBe(422);
    expect(noReason.body.error.message).toMatch(/^reason: version 2 must say why/);
    const corrected = await submit(
      await signedProtocolOf(index, P, { version: 2, reason: 'recount', issued: 41 }),
    );
    expect(corrected.status).toBe(201);
    expect(corrected.body).toMatchObject({ status: 'accepted', version: 2 });
  });

  it('refuses before the precinct closes, and anyone but an official of that precinct', async () => {
    const openOfficial = await staffToken(index, { role: 'official', id: 'O-10-2-a', precinct: OPEN });
    const early = await submit(await signedProtocolOf(index, OPEN, { issued: 1 }), openOfficial);
    expect(early.status).toBe(403);
    expect(early.body.error.code).toBe('precinct_open');
    const protocol = await signedProtocolOf(index, P, { version: 4, reason: 'x', issued: 1 });
    const elsewhere = await submit(protocol, openOfficial);
    expect(elsewhere.body.error.code).toBe('token_wrong_role');
    const observer = await submit(protocol, await staffToken(index, { role: 'observer', id: 'obs-1' }));
    expect(observer.body.error.code).toBe('token_wrong_role');
    const keys = await readKeys(config.stackDir, index.id);
    const [member] = listSampleMembers(index, 0, 1);
    const voter = await submit(protocol, await issueDevToken(keys, index, member!.memberId));
    expect(voter.body.error.code).toBe('token_wrong_role');
    expect((await submit(protocol, 'x')).body.error.code).toBe('unauthorized');
  });
});

describe('after Redis lost the election’s keys', () => {
  it('rebuilds the taken versions from the paper topic: a different version 1 is still 409', async () => {
    const redis = new Redis({ host: config.redis.host, port: config.redis.port });
    try {
      const keys = await redis.keys(`*${index.id}*`);
      expect(keys.some((k) => k.startsWith('protocol:'))).toBe(true);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    const different = await signedProtocolOf(index, P, { issued: 42 });
    const deadline = Date.now() + 90_000;
    let res = await submit(different);
    while (res.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      res = await submit(different);
    }
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error.code).toBe('protocol_version_taken');
    const same = await submit(
      await signedProtocolOf(index, P, { version: 2, reason: 'recount', issued: 41 }),
    );
    expect(same.body.status).toBe('repeated');
  }, 120_000);
});

describe('npm run paper -- protocol', () => {
  it('signs a protocol file with the station key file and submits it with the token file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'saylau-protocol-cli-'));
    try {
      const token = await staffToken(index, { role: 'official', id: 'O-10-3-a', precinct: 'P-10-3' });
      await writeFile(join(dir, 'token'), `${token}\n`);
      await writeFile(join(dir, 'protocol.json'), JSON.stringify(protocolOf(index, 'P-10-3', { issued: 3 })));
      const key = stationKeyPath(config.stackDir, index.id, 'P-10-3');
      const args = ['--key', key, '--token-file', join(dir, 'token'), join(dir, 'protocol.json')];
      expect(await protocolCommand(args, ingest.base)).toBe(0);
      expect(await protocolCommand(args, ingest.base)).toBe(0); // repeated
      const otherKey = stationKeyPath(config.stackDir, index.id, 'P-11-1');
      expect(await protocolCommand(['--key', otherKey, ...args.slice(2)], ingest.base)).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('POST /v1/paper/protocols/{precinct}/dissents', () => {
  it('stores an observer’s note on a version in the log (a resend once), and refuses notes on versions that are not', async () => {
    const observer = await staffToken(index, { role: 'observer', id: 'obs-7' });
    const note = { election: index.id, version: 2, text: 'The seal of box 2 was broken before the count.' };
    const path = `/v1/paper/protocols/${P}/dissents`;
    const auth = { authorization: `Bearer ${observer}` };
    const first = await api(ingest.base, 'POST', path, note, auth);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.status).toBe('noted');
    const again = await api(ingest.base, 'POST', path, note, auth);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'repeated', id: first.body.id });
    expect((await api(ingest.base, 'POST', path, { ...note, version: 9 }, auth)).status).toBe(404);
    const byOfficial = await api(ingest.base, 'POST', path, note, { authorization: `Bearer ${official}` });
    expect(byOfficial.body.error.code).toBe('token_wrong_role');
    // One observer's notes are limited (each is published in every snapshot): the burst of 4 is spent.
    const flood = await api(ingest.base, 'POST', path, { ...note, text: 'and again' }, auth);
    expect(flood.status).toBe(201);
    const limited = await api(ingest.base, 'POST', path, { ...note, text: 'and again, louder' }, auth);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');

    const records = await readRecords(
      kafka,
      TOPICS.paper,
      since,
      (v) => v?.election === index.id && v?.precinct === P,
    );
    const kinds = records.map((r) => [r.value.kind, r.value.version]);
    expect(kinds).toEqual([
      ['protocol', 1],
      ['protocol', 2],
      ['dissent', 2],
      ['dissent', 2],
    ]);
    expect(records[0]!.value).toMatchObject({
      precinct: P,
      submittedBy: 'O-10-1-a',
      issued: 40,
      spoiled: 2,
      unused: 60,
    });
    expect(records[1]!.value.reason).toBe('recount');
    expect(records[2]!.value).toMatchObject({
      author: 'obs-7',
      text: note.text,
      precinct: P,
      id: first.body.id,
    });
  });
});
