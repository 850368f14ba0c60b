/**
 * The fault harness's pure parts: its RFC 9474 client interoperates with
 * ingest's blind signer; the plan covers every kind and each broker; the
 * checker finds each kind of violation (and none in a clean history).
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ballotIdOf } from '../common/ballot-id.js';
import { blindSign, verifyCredential } from '../ingest/crypto/blind-rsa.js';
import { addRecord, emptyIndex, type HistoryIndex } from '../loadtest/chaos/check/history-index.js';
import { canonicalRows } from '../loadtest/chaos/check/rows.js';
import { cellKey, type Tally } from '../loadtest/chaos/check/tally.js';
import { check, type Verdict } from '../loadtest/chaos/check/verdicts.js';
import { FAULT_KINDS } from '../loadtest/chaos/faults.js';
import type { HistoryRecord } from '../loadtest/chaos/history.js';
import type { ElectionLog, LoggedBallot } from '../loadtest/chaos/observe/kafka-log.js';
import type { Counted, PublishedSnapshot } from '../loadtest/chaos/observe/published.js';
import { planFaults } from '../loadtest/chaos/plan.js';
import { blind, blindKey, finalize } from '../loadtest/chaos/voters/blind-client.js';
import { merkleRoot } from '../publisher/merkle.js';

describe('the harness’s blind-signature client', () => {
  it('blinds so that ingest’s signer signs, and finalizes to a credential ingest accepts', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pk = blindKey(publicKey);
    for (let i = 0; i < 5; i++) {
      const b = blind(pk);
      const signature = finalize(pk, b, blindSign(privateKey, publicKey, b.blinded));
      expect(signature).not.toBeNull();
      expect(verifyCredential(publicKey, b.prepared, signature!)).toBe(true);
    }
  });

  it('refuses a blind signature that is not over its message', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pk = blindKey(publicKey);
    const mine = blind(pk);
    const other = blind(pk);
    expect(finalize(pk, mine, blindSign(privateKey, publicKey, other.blinded))).toBeNull();
  });
});

describe('the fault plan', () => {
  const holds = { produceTimeoutMs: 4000, allDownMs: 10_000, short: true, rollGraceMs: 10_000 };
  const brokers = ['kafka-1', 'kafka-2', 'kafka-3'];

  it('has one fault of each kind when asked for as many as there are kinds, on three lanes', () => {
    const plan = planFaults({
      count: FAULT_KINDS.length,
      kinds: FAULT_KINDS,
      seed: 1,
      windowMs: 90_000,
      overlap: true,
      brokers,
      holds,
    });
    expect(new Set(plan.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    expect(new Set(plan.faults.map((f) => f.lane))).toEqual(new Set(['kafka', 'front', 'results']));
  });

  it('kills each broker in turn in a long plan, and says how long a window is needed when it cannot fit', () => {
    const long = { ...holds, produceTimeoutMs: 10_000, allDownMs: 30_000, short: false };
    const plan = planFaults({
      count: 24,
      kinds: FAULT_KINDS,
      seed: 2,
      windowMs: 900_000,
      overlap: false,
      brokers,
      holds: long,
    });
    const killed = plan.faults.filter((f) => f.kind === 'kafka-broker-kill').map((f) => f.target);
    expect(new Set(killed)).toEqual(new Set(brokers));
    expect(() =>
      planFaults({
        count: 24,
        kinds: FAULT_KINDS,
        seed: 2,
        windowMs: 120_000,
        overlap: false,
        brokers,
        holds: long,
      }),
    ).toThrow(/--seconds \d+/);
  });
});

// ─── the checker on a hand-made run ───

const ROWS_A = [['R-1', 'C-1']] as const;
const ROWS_B = [['R-1', 'C-2']] as const;
const at = (
  partition: number,
  offset: number,
  rows: readonly (readonly string[])[],
  hash: string,
): LoggedBallot => ({
  partition,
  offset,
  ballotHash: hash,
  rowsKey: canonicalRows(rows),
  region: 'KZ-1',
  district: 'D-1',
});

function history(records: readonly HistoryRecord[]): HistoryIndex {
  const index = emptyIndex();
  for (const r of records) addRecord(index, r);
  return index;
}

const cast = (id: string, x: number, o: 'ok' | 'refused' | 'unknown', a = 1): HistoryRecord => ({
  k: 'cast',
  t: 0,
  id,
  x,
  a,
  s: o === 'ok' ? 201 : o === 'refused' ? 409 : 503,
  c: '',
  o,
  ms: 1,
  r: o === 'ok' ? id : null,
});
const ballot = (id: string, x: number, rows: readonly (readonly string[])[]): HistoryRecord => ({
  k: 'ballot',
  t: 0,
  id,
  x,
  rows: rows as never,
  why: x === 0 ? 'first' : 'changed',
});

function tallyOf(entries: readonly [string, number][]): Tally {
  return new Map(entries.map(([candidate, votes]) => [cellKey('R-1', 'KZ-1', 'D-1', candidate), votes]));
}

function run(
  h: HistoryIndex,
  ballots: [string, LoggedBallot[]][],
  counted: string[],
  tally: Tally,
): Verdict[] {
  const log: ElectionLog = {
    ballots: new Map(ballots),
    issuance: new Map(),
    ballotRecords: ballots.length,
    issuanceRecords: 0,
    malformed: 0,
    readMs: 0,
  };
  const c: Counted = { codes: counted, tally, conflicts: [] };
  const sorted = [...counted].sort();
  const snapshot: PublishedSnapshot = {
    seq: 2,
    takenAt: '2026-01-01T00:00:00Z',
    codes: sorted,
    codesCount: sorted.length,
    merkleRoot: merkleRoot(sorted),
    rootOk: true,
    tally,
  };
  return check({ history: h, log, counted: c, snapshot, snapshotFresh: true, operatorActions: [] });
}

const byId = (verdicts: Verdict[]) => new Map(verdicts.map((v) => [v.id, v]));

describe('the checker', () => {
  const A = ballotIdOf(Buffer.from('a'));
  const B = ballotIdOf(Buffer.from('b'));

  it('passes a clean run: acknowledged, logged once, counted once', () => {
    const h = history([ballot(A, 0, ROWS_A), cast(A, 0, 'unknown'), cast(A, 0, 'ok', 2)]);
    const verdicts = run(
      h,
      [[A, [at(0, 0, ROWS_A, 'h1'), at(0, 5, ROWS_A, 'h1')]]],
      [A],
      tallyOf([['C-1', 1]]),
    );
    expect(verdicts.filter((v) => !v.pass)).toEqual([]);
  });

  it('finds a lost acknowledged ballot and a superseded one', () => {
    const h = history([
      ballot(A, 0, ROWS_A),
      cast(A, 0, 'ok'),
      ballot(B, 0, ROWS_A),
      cast(B, 0, 'unknown'),
      ballot(B, 1, ROWS_B),
      cast(B, 1, 'ok'),
    ]);
    // A never reached Kafka; B's first (unknown) version landed first and wins.
    const verdicts = byId(
      run(h, [[B, [at(1, 0, ROWS_A, 'h1'), at(1, 1, ROWS_B, 'h2')]]], [B], tallyOf([['C-1', 1]])),
    );
    expect(verdicts.get('A')!.violations.lost?.ids).toEqual([A]);
    expect(verdicts.get('A')!.violations.superseded?.ids).toEqual([B]);
    expect(verdicts.get('C')!.pass).toBe(true);
  });

  it('finds a conflict that counted twice, and a counted ballot that was only refused', () => {
    const h = history([
      ballot(A, 0, ROWS_A),
      cast(A, 0, 'ok'),
      ballot(A, 1, ROWS_B),
      cast(A, 1, 'refused'),
      ballot(B, 0, ROWS_A),
      cast(B, 0, 'refused'),
    ]);
    const verdicts = byId(
      run(
        h,
        [
          [A, [at(0, 0, ROWS_A, 'h1'), at(0, 1, ROWS_B, 'h2')]],
          [B, [at(2, 0, ROWS_A, 'h3')]],
        ],
        [A, B],
        tallyOf([
          ['C-1', 2],
          ['C-2', 1],
        ]),
      ),
    );
    expect(verdicts.get('C')!.violations.conflictsCounted?.ids).toEqual([A]);
    expect(verdicts.get('B')!.violations.refusedCounted?.ids).toEqual([B]);
    expect(verdicts.get('E')!.violations.publishedCells?.count).toBe(1);
  });

  it('finds a voter with two credentials', () => {
    const issue = (bh: string, sh: string): HistoryRecord => ({
      k: 'issue',
      t: 0,
      v: 'voter-1',
      d: bh === 'b1' ? 1 : 2,
      a: 1,
      s: 200,
      c: '',
      o: 'ok',
      ms: 1,
      bh,
      sh,
    });
    const verdicts = byId(run(history([issue('b1', 's1'), issue('b2', 's2')]), [], [], new Map()));
    expect(verdicts.get('D')!.violations.twoCredentials?.ids).toEqual(['voter-1']);
    expect(verdicts.get('A2')!.violations.issuedNotLogged?.ids).toEqual(['voter-1']);
  });
});
