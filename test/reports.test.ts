/**
 * Violation reports on the real stack (issue 16): voters and staff file
 * reports through the real ingest and get tracking numbers; every
 * acknowledged report is in the `reports` topic (set equality by tracking
 * number) and names no one; the committee's triage follows the status
 * machine, is written acks=all and read back; ClickHouse counts reports by
 * category and status; the public lookup and the snapshot carry no texts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { reportCountsByRegion } from '../aggregator/queries.js';
import { STREAMS } from '../aggregator/streams.js';
import { canonicalJson } from '../common/canonical.js';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import {
  newTrackingNumber,
  REPORT_CATEGORIES,
  type ReportRecord,
  TOPICS,
  TRACKING_NUMBER,
  type TriageRecord,
} from '../common/records.js';
import {
  committeeView,
  isReportRefusal,
  publicView,
  type ReportEntry,
  removalIn,
  transitionProblem,
} from '../election/admin/reports.js';
import { ReportsBook, type TriageWriter } from '../election/admin/reports-book.js';
import type { ElectionState } from '../election/election-state.js';
import {
  type ElectionIndex,
  issueDevStaffToken,
  issueDevToken,
  listSampleMembers,
  loadElection,
  readKeys,
} from '../election/index.js';
import { buildSnapshot } from '../publisher/snapshot-builder.js';
import { snapshotShapeProblem } from '../publisher/snapshot-schema.js';
import { eventually, migrated, settled } from './aggregator.support.js';
import {
  api,
  forgetElection,
  type Ingest,
  offsetsOf,
  prepareElection,
  readRecords,
  startIngest,
} from './ingest.harness.js';
import { constructedResults, fakeDistrictKeys, fixtureStations, fixtureTerms } from './publisher.fixtures.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_810);
const ELECTION = `reports-${Date.now().toString(36)}`;
const log = createLogger('reports-test', process.env.LOG_LEVEL ?? 'warn');

let index: ElectionIndex;
let ingest: Ingest;
let kafka: Kafka;
let producer: Producer;
let since: Map<number, string>;
let book: ReportsBook;
let voters: string[];
let observer: string;
let official: string;
let committee: string;

/** Every report this file got a 201 for: tracking number → what was sent. */
const filed = new Map<string, { category: string; region: string; text: string; filedAs: string }>();

const file = (body: unknown, token: string) =>
  api(ingest.base, 'POST', '/v1/reports', body, { authorization: `Bearer ${token}` });

/** The admin service's producer, as the ops part wires it: acks=all, the offset acknowledged. */
const writer: TriageWriter = {
  async produce(topic, partition, key, value, timestampMs) {
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: [{ partition, key, value, timestamp: String(timestampMs) }],
    });
    return Number(meta!.baseOffset);
  },
};

const noRemovals = () => false;

beforeAll(async () => {
  // tiny.json (3 districts, 2 regions, 2 polling stations): keys are quick to make.
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  let path: string;
  ({ index, path } = await prepareElection(ELECTION, 500, (sample) => ({
    ...tiny,
    id: sample.id,
    opens: sample.opens,
    closes: sample.closes,
    sampleRoll: sample.sampleRoll,
  })));
  kafka = kafkaClient();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await Promise.all([producer.connect(), migrated()]);
  since = await offsetsOf(kafka, TOPICS.reports);
  // A burst of 3 per sign-in, then one a minute: the limit test's fourth report is refused.
  ingest = await startIngest({
    election: path,
    port: PORT,
    env: { INGEST_REPORT_BURST: '3', INGEST_REPORT_PER_MIN: '1' },
  });
  const keys = await readKeys(config.stackDir, ELECTION);
  voters = await Promise.all(
    listSampleMembers(index, 0, 5).map((m) => issueDevToken(keys, index, m.memberId)),
  );
  const precinct = index.config.paperPrecincts[0]!;
  [observer, official, committee] = await Promise.all([
    issueDevStaffToken(keys, index, { role: 'observer', id: 'OBS-7' }),
    issueDevStaffToken(keys, index, {
      role: 'official',
      id: precinct.officials[0]!.id,
      precinct: precinct.id,
    }),
    issueDevStaffToken(keys, index, { role: 'committee', id: 'CC-1' }),
  ]);
  book = new ReportsBook({
    brokers: config.kafka.brokers,
    stackDir: config.stackDir,
    election: ELECTION,
    log,
  });
  await book.start();
}, 120_000);

afterAll(async () => {
  await ingest?.stop();
  await book?.close();
  await producer?.disconnect();
  await forgetElection(config, ELECTION);
});

const regions = () => index.config.regions.map((r) => r.code);
const districtOf = (region: string) => index.config.districts.find((d) => d.region === region)!.id;

describe('POST /v1/reports', () => {
  it('files reports of voters, an observer, an official and a committee member: 201 with a tracking number, each in Kafka once, naming no one', async () => {
    const sends: { token: string; filedAs: string; body: Record<string, string> }[] = [];
    REPORT_CATEGORIES.forEach((category, i) => {
      const region = regions()[i % 2]!;
      sends.push({
        token: voters[i % 3]!,
        filedAs: 'voter',
        body: { election: ELECTION, category, region, text: `voter ${i}: мысал\r\nсөз ${category}` },
      });
    });
    sends.push({
      token: observer,
      filedAs: 'observer',
      body: {
        election: ELECTION,
        category: 'procedure',
        region: regions()[1]!,
        district: districtOf(regions()[1]!),
        text: 'observer: ballot box left unattended',
        attachment: 'https://example.org/photo/123',
      },
    });
    sends.push({
      token: official,
      filedAs: 'official',
      body: {
        election: ELECTION,
        category: 'technical',
        region: regions()[0]!,
        text: 'official: scanner down',
      },
    });
    sends.push({
      token: committee,
      filedAs: 'committee',
      body: {
        election: ELECTION,
        category: 'campaigning',
        region: regions()[1]!,
        text: 'committee: agitation at the door',
      },
    });
    const answers = await Promise.all(sends.map((s) => file(s.body, s.token)));
    answers.forEach((res, i) => {
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.status).toBe('open');
      expect(res.body.tracking).toMatch(TRACKING_NUMBER);
      const { category, region, text } = sends[i]!.body as Record<string, string>;
      filed.set(res.body.tracking, {
        category: category!,
        region: region!,
        text: text!,
        filedAs: sends[i]!.filedAs,
      });
    });
    expect(filed.size).toBe(sends.length);

    const records = await readRecords(kafka, TOPICS.reports, since, (v) => v.election === ELECTION);
    const reports = records.map((r) => r.value as ReportRecord);
    expect(new Set(reports.map((r) => r.id))).toEqual(new Set(filed.keys()));
    expect(reports.length).toBe(filed.size);
    for (const r of reports) {
      const sent = filed.get(r.id)!;
      expect(r).toMatchObject({
        kind: 'report',
        category: sent.category,
        region: sent.region,
        text: sent.text,
      });
      expect(r.filedAs).toBe(sent.filedAs);
      expect(Object.keys(r).sort()).toEqual(
        [
          'v',
          'kind',
          'id',
          'election',
          'region',
          'district',
          'category',
          'text',
          'attachment',
          'filedAs',
          'bucket',
        ].sort(),
      );
      // The cast bucket, never the minute; and nothing of the sign-in beyond its kind.
      expect(r.bucket % index.castBucketSec).toBe(0);
      const raw = JSON.stringify(r);
      expect(raw).not.toContain('OBS-7');
      expect(raw).not.toContain('CC-1');
      expect(raw).not.toContain(index.config.paperPrecincts[0]!.officials[0]!.id);
    }
    const observed = reports.find((r) => r.filedAs === 'observer')!;
    expect(observed.attachment).toBe('https://example.org/photo/123');
    expect(observed.district).toBe(districtOf(regions()[1]!));
  });

  it('refuses bodies outside the schema, places not of the election and missing sign-ins, writing nothing', async () => {
    const good = { election: ELECTION, category: 'other', region: regions()[0]!, text: 'x' };
    const before = await offsetsOf(kafka, TOPICS.reports);
    const cases: [unknown, number, string][] = [
      [{ ...good, category: 'bribery' }, 400, 'bad_request'],
      [{ ...good, text: '' }, 400, 'bad_request'],
      [{ ...good, text: 'a'.repeat(2001) }, 400, 'bad_request'],
      [{ ...good, text: 'bell\u0007' }, 400, 'bad_request'],
      [{ ...good, attachment: 'a'.repeat(301) }, 400, 'bad_request'],
      [{ ...good, attachment: 'two\nlines' }, 400, 'bad_request'],
      [{ ...good, filedAs: 'observer' }, 400, 'bad_request'],
      [{ ...good, voter: 'someone' }, 400, 'bad_request'],
      [{ ...good, region: 'KZ-00' }, 422, 'report_invalid'],
      [{ ...good, district: districtOf(regions()[1]!) }, 422, 'report_invalid'],
      [{ ...good, election: 'another-election' }, 404, 'not_found'],
    ];
    for (const [body, status, code] of cases) {
      const res = await file(body, voters[3]!);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const anonymous = await api(ingest.base, 'POST', '/v1/reports', good);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect(await offsetsOf(kafka, TOPICS.reports)).toEqual(before);
  });

  it('limits reports per sign-in: the fourth at once is 429 rate_limited with Retry-After', async () => {
    const body = { election: ELECTION, category: 'other', region: regions()[1]!, text: 'limit' };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await file(body, voters[4]!));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 429]);
    const refused = answers[3]!;
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status === 201)) {
      filed.set(a.body.tracking, {
        category: 'other',
        region: body.region,
        text: body.text,
        filedAs: 'voter',
      });
    }
    // Another sign-in is not limited by this one.
    const other = await file(body, observer);
    expect(other.status).toBe(201);
    filed.set(other.body.tracking, {
      category: 'other',
      region: body.region,
      text: body.text,
      filedAs: 'observer',
    });
  });
});

describe('triage (election/admin/reports.ts)', () => {
  const tracking = () => [...filed.keys()];

  it('follows the machine: open → investigating → upheld; open → dismissed; refusals for the rest', async () => {
    const [a, b, c] = tracking();
    const ok = async (id: string, status: 'investigating' | 'upheld' | 'dismissed', summary = '') => {
      const out = await book.triage(id!, { status, summary }, 'CC-1', writer, noRemovals);
      if (isReportRefusal(out)) throw new Error(`${id} → ${status}: ${out.refused} ${out.message}`);
      expect(out.outcome).toBe('created');
      return out.record;
    };
    expect((await ok(a!, 'investigating')).id).toBe(`${a}:1`);
    expect((await ok(a!, 'upheld', 'Confirmed by the district commission.')).id).toBe(`${a}:2`);
    await ok(b!, 'dismissed', 'No evidence.');
    await ok(c!, 'investigating');

    const refused = async (id: string, request: Parameters<ReportsBook['triage']>[1], code: string) => {
      const out = await book.triage(id, request, 'CC-1', writer, noRemovals);
      expect(isReportRefusal(out) ? out.refused : out.outcome, JSON.stringify(request)).toBe(code);
    };
    await refused(a!, { status: 'dismissed' }, 'admin_triage_invalid'); // a finding is not changed in place
    await refused(a!, { status: 'investigating' }, 'admin_triage_invalid'); // reopening needs a summary
    await refused(c!, { status: 'investigating', summary: 'again' }, 'admin_triage_invalid');
    await refused(c!, { status: 'dismissed', removal: 'E-ABCDEFGHJK' }, 'admin_triage_invalid');
    await refused(c!, { status: 'upheld', removal: 'E-ABCDEFGHJK' }, 'admin_triage_invalid'); // no such event
    await refused(newTrackingNumber(), { status: 'investigating' }, 'admin_report_not_found');
    // A resent decision is answered as repeated, not refused.
    await refused(a!, { status: 'upheld', summary: 'Confirmed by the district commission.' }, 'repeated');
    // Reopened with a reason, then decided again.
    await ok(a!, 'investigating', 'New evidence from the observer.');
    const upheld = await book.triage(
      a!,
      { status: 'upheld', removal: 'E-ABCDEFGHJK' },
      'CC-1',
      writer,
      (id) => id === 'E-ABCDEFGHJK',
    );
    expect(isReportRefusal(upheld) ? upheld.refused : upheld.record.removal).toBe('E-ABCDEFGHJK');
  });

  it('tells the second of two members deciding on one state that it lost (409), and ignores its record', async () => {
    const d = tracking()[3]!;
    // Another member's decision lands between this one's read and its write: the same triage id.
    const racing: TriageWriter = {
      async produce(topic, partition, key, value, timestampMs) {
        const mine = JSON.parse(value) as TriageRecord;
        // Decided a moment earlier by the other member (ClickHouse tells the two apart by `at`).
        const theirs = { ...mine, status: 'dismissed', by: 'CC-2', at: mine.at - 1 };
        await writer.produce(topic, partition, key, canonicalJson(theirs), timestampMs);
        return writer.produce(topic, partition, key, value, timestampMs);
      },
    };
    const lost = await book.triage(d, { status: 'upheld' }, 'CC-1', racing, noRemovals);
    expect(isReportRefusal(lost) ? lost.refused : lost.outcome).toBe('admin_triage_conflict');
    expect(book.get(d)!.triage.map((t) => [t.id, t.status, t.by])).toEqual([[`${d}:1`, 'dismissed', 'CC-2']]);
    expect(book.skipped).toBeGreaterThanOrEqual(1);
    // Decided again on the state as it now is: a finding is not changed in place.
    const late = await book.triage(d, { status: 'upheld' }, 'CC-1', writer, noRemovals);
    expect(isReportRefusal(late) ? late.refused : late.outcome).toBe('admin_triage_invalid');
  });

  it('decides one report at a time in one admin process: the second decision sees the first', async () => {
    const f = tracking()[5]!;
    const [first, second] = await Promise.all([
      book.triage(f, { status: 'upheld' }, 'CC-1', writer, noRemovals),
      book.triage(f, { status: 'dismissed' }, 'CC-1', writer, noRemovals),
    ]);
    expect(isReportRefusal(first) ? first.refused : first.outcome).toBe('created');
    expect(isReportRefusal(second) ? second.refused : second.outcome).toBe('admin_triage_invalid');
    expect(book.get(f)!.triage.map((t) => t.status)).toEqual(['upheld']);
  });

  it('shows the public only status and summary; the committee the whole report', () => {
    const [a, , , , e] = tracking();
    const pub = publicView(book.get(a!)!);
    expect(pub).toEqual({ tracking: a, status: 'upheld', summary: 'New evidence from the observer.' });
    expect(publicView(book.get(e!)!)).toEqual({ tracking: e, status: 'open', summary: '' });
    const full = committeeView(book.get(a!)!);
    expect(full.text).toBe(filed.get(a!)!.text);
    expect(full.triage.map((t) => t.status)).toEqual(['investigating', 'upheld', 'investigating', 'upheld']);
    expect(book.list('open').every((x) => x.triage.length === 0)).toBe(true);
  });
});

describe('counts (ClickHouse) and snapshots', () => {
  it('counts reports by category and status, in total and per region, as the book has them', async () => {
    await book.current();
    const mine = book.list().filter((x) => filed.has(x.record.id));
    expect(mine.length).toBe(filed.size);
    const expected: Record<string, Record<string, number>> = {};
    const expectedRegions: Record<string, Record<string, Record<string, number>>> = {};
    const bump = (m: Record<string, Record<string, number>>, x: ReportEntry) => {
      const status = publicView(x).status;
      m[x.record.category] ??= {};
      m[x.record.category]![status] = (m[x.record.category]![status] ?? 0) + 1;
    };
    for (const x of mine) {
      bump(expected, x);
      expectedRegions[x.record.region] ??= {};
      bump(expectedRegions[x.record.region]!, x);
    }
    await settled(
      STREAMS.filter((s) => s.topic === TOPICS.reports),
      60_000,
    );
    const ch = new ClickHouse(config, { database: config.clickhouse.database });
    try {
      const want = canonicalJson({ total: expected, regions: expectedRegions });
      await eventually(async () => canonicalJson(await reportCountsByRegion(ch, ELECTION)), want);
      const counts = await reportCountsByRegion(ch, ELECTION);
      expect(counts.total).toEqual(expected);
      expect(counts.regions).toEqual(expectedRegions);
      // ClickHouse has the counts and no words: no column of the reports tables can hold a text.
      const columns = await ch.rows<{ name: string }>(
        `SELECT name FROM system.columns WHERE database = '${config.clickhouse.database}'
         AND table IN ('reports', 'report_triage')`,
      );
      expect(columns.map((c) => c.name)).not.toContain('text');
      expect(columns.map((c) => c.name)).not.toContain('attachment');

      // The sample election's constructed results (a roll to match), with these counts.
      const sample = loadElection('sample');
      const snapshot = buildSnapshot(
        sample,
        { ...constructedResults(sample, 30), reports: counts.total },
        { seq: 1, prevHash: null, takenAtMs: Date.now() },
        fakeDistrictKeys(sample),
        fixtureStations(sample),
        fixtureTerms(sample),
      );
      expect(snapshotShapeProblem({ ...snapshot, signature: 'A'.repeat(86) })).toBeNull();
      for (const category of REPORT_CATEGORIES) {
        expect(snapshot.reports![category]).toEqual({
          open: 0,
          investigating: 0,
          upheld: 0,
          dismissed: 0,
          ...expected[category],
        });
      }
      const published = JSON.stringify(snapshot);
      for (const { text } of filed.values()) expect(published).not.toContain(text);
    } finally {
      await ch.close();
    }
  });
});

describe('the status machine (pure)', () => {
  it('allows skipping investigating, reopening with a reason, and nothing else', () => {
    expect(transitionProblem('open', 'investigating', '')).toBeNull();
    expect(transitionProblem('open', 'upheld', '')).toBeNull();
    expect(transitionProblem('open', 'dismissed', '')).toBeNull();
    expect(transitionProblem('investigating', 'upheld', '')).toBeNull();
    expect(transitionProblem('investigating', 'investigating', '')).toMatch(/already/);
    expect(transitionProblem('upheld', 'dismissed', 'x')).toMatch(/not changed in place/);
    expect(transitionProblem('dismissed', 'investigating', '')).toMatch(/needs a summary/);
    expect(transitionProblem('dismissed', 'investigating', 'new evidence')).toBeNull();
  });

  it('takes a removal only from the election’s applied candidate-removed events', () => {
    const state = {
      events: [
        { id: 'E-ABCDEFGHJK', type: 'candidate-removed' },
        { id: 'E-BBBBBBBBBB', type: 'paused' },
      ],
    } as unknown as ElectionState;
    expect(removalIn(state)('E-ABCDEFGHJK')).toBe(true);
    expect(removalIn(state)('E-BBBBBBBBBB')).toBe(false);
    expect(removalIn(state)('E-CCCCCCCCCC')).toBe(false);
  });

  it('draws tracking numbers in Crockford base32, never I, L, O or U', () => {
    for (let i = 0; i < 200; i++) expect(newTrackingNumber()).toMatch(TRACKING_NUMBER);
    expect(newTrackingNumber(() => Buffer.alloc(5, 0xff))).toBe('R-ZZZZ-ZZZZ');
    expect(newTrackingNumber(() => Buffer.alloc(5, 0))).toBe('R-0000-0000');
  });
});
