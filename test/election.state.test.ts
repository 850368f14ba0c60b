/**
 * The election's state fold (election/election-state.ts) and the operators'
 * signatures (election/election-events.ts): pure, no stack. Every transition
 * rule of the spec, the refusal codes the admin API answers with, and that a
 * record signed by one operator does not pass as another's or after a change.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElectionEventRecord, UnsignedElectionEvent } from '../common/records.js';
import {
  applyEvent,
  candidateKey,
  type ElectionKeys,
  type ElectionState,
  eventShapeProblem,
  eventSignatureProblem,
  indexElection,
  initialState,
  isRefusal,
  loadElection,
  makeKeys,
  newEventId,
  type OperatorKeys,
  operatorKeyPath,
  phaseAt,
  readKeys,
  readOperatorKeys,
  signEvent,
  type TransitionRefusal,
} from '../election/index.js';

const OPENS = Date.parse('2030-01-01T06:00:00Z');
const CLOSES = Date.parse('2030-01-01T20:00:00Z');
const index = indexElection({
  ...loadElection('tiny').config,
  id: 'test-election-state',
  opens: new Date(OPENS).toISOString(),
  closes: new Date(CLOSES).toISOString(),
  operators: [
    { id: 'OP-1', name: 'Chair' },
    { id: 'OP-2', name: 'Secretary' },
  ],
});

const HOUR = 3_600_000;
let n = 0;
function ev(
  type: ElectionEventRecord['type'],
  at: number,
  extra: Partial<ElectionEventRecord> = {},
): ElectionEventRecord {
  return {
    v: 1,
    id: `E-AAAAAAA${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[Math.floor(n / 26) % 26]}${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[n++ % 26]}A`,
    election: index.id,
    type,
    at,
    by: 'OP-1',
    detail: `reason for ${type}`,
    signature: 'x',
    ...extra,
  };
}

/** Applies events in order; every one must be accepted. */
function fold(...events: ElectionEventRecord[]): ElectionState {
  let state = initialState(index);
  for (const e of events) {
    expect(eventShapeProblem(index, e)).toBeNull();
    const next = applyEvent(state, index, e);
    if (isRefusal(next)) throw new Error(`${e.type} refused: ${next.refused}`);
    state = next;
  }
  return state;
}

function refusal(state: ElectionState, e: ElectionEventRecord): TransitionRefusal['refused'] | null {
  const next = applyEvent(state, index, e);
  return isRefusal(next) ? next.refused : null;
}

describe('election state', () => {
  it('without events follows the config: scheduled, open, closed at the config times', () => {
    const s = initialState(index);
    expect(phaseAt(s, OPENS - 1)).toBe('scheduled');
    expect(phaseAt(s, OPENS)).toBe('open');
    expect(phaseAt(s, CLOSES - 1)).toBe('open');
    expect(phaseAt(s, CLOSES)).toBe('closed');
    expect(s.candidates.get(candidateKey('R-NAT', 'C-NAT-03'))).toBe('withdrawn');
    expect(s.head).toBeNull();
  });

  it('opened brings the opening forward, never back; refused once closed', () => {
    const early = fold(ev('opened', OPENS - 2 * HOUR));
    expect(early.opensAt).toBe(OPENS - 2 * HOUR);
    expect(phaseAt(early, OPENS - HOUR)).toBe('open');
    expect(fold(ev('opened', OPENS + HOUR)).opensAt).toBe(OPENS);
    const closed = fold(ev('closed', OPENS + HOUR));
    expect(refusal(closed, ev('opened', OPENS + 2 * HOUR))).toBe('election_already_closed');
  });

  it('paused needs an open election and no pause; resumed needs a pause', () => {
    const scheduled = initialState(index);
    expect(refusal(scheduled, ev('paused', OPENS - HOUR))).toBe('not_open');
    const paused = fold(ev('paused', OPENS + HOUR, { until: '2030-01-01T08:00:00Z' }));
    expect(phaseAt(paused, OPENS + HOUR)).toBe('paused');
    expect(paused.pause).toMatchObject({
      reason: 'reason for paused',
      until: '2030-01-01T08:00:00Z',
      by: 'OP-1',
    });
    expect(refusal(paused, ev('paused', OPENS + HOUR))).toBe('already_paused');
    expect(refusal(scheduled, ev('resumed', OPENS + HOUR))).toBe('not_paused');
    const resumed = fold(ev('paused', OPENS + HOUR), ev('resumed', OPENS + 2 * HOUR));
    expect(phaseAt(resumed, OPENS + 2 * HOUR)).toBe('open');
    expect(resumed.events.map((e) => e.type)).toEqual(['paused', 'resumed']);
    expect(resumed.head).toBe(resumed.events[1]!.id);
  });

  it('extended must move the closing later and not after close; closed once', () => {
    const s = initialState(index);
    expect(refusal(s, ev('extended', OPENS + HOUR, { until: new Date(CLOSES).toISOString() }))).toBe(
      'not_later',
    );
    const later = fold(ev('extended', OPENS + HOUR, { until: '2030-01-02T20:00:00Z' }));
    expect(later.closesAt).toBe(CLOSES + 24 * HOUR);
    expect(phaseAt(later, CLOSES + HOUR)).toBe('open');
    const closed = fold(ev('closed', OPENS + HOUR));
    expect(closed.closedAt).toBe(OPENS + HOUR);
    expect(phaseAt(closed, OPENS + HOUR)).toBe('closed');
    expect(refusal(closed, ev('closed', OPENS + 2 * HOUR))).toBe('election_already_closed');
    expect(refusal(closed, ev('extended', OPENS + 2 * HOUR, { until: '2030-01-03T00:00:00Z' }))).toBe(
      'election_already_closed',
    );
    // After the config's closing time without a `closed` event it is closed too.
    expect(refusal(s, ev('closed', CLOSES + HOUR))).toBe('election_already_closed');
  });

  it('an event signed a little earlier than the one before it takes effect after it', () => {
    const closed = fold(ev('closed', OPENS + 2 * HOUR));
    expect(refusal(closed, ev('paused', OPENS + HOUR))).toBe('not_open');
  });

  it('declared needs a closed election and is kept in order', () => {
    expect(refusal(initialState(index), ev('declared', OPENS + HOUR))).toBe('not_closed');
    const s = fold(
      ev('closed', OPENS + HOUR),
      ev('declared', OPENS + 2 * HOUR),
      ev('declared', OPENS + 3 * HOUR),
    );
    expect(s.declarations).toHaveLength(2);
  });

  it('candidate events change a known candidate status, and only a real change', () => {
    const c = { race: 'R-NAT', candidate: 'C-NAT-01' };
    const removed = fold(ev('candidate-removed', OPENS, { ...c, reference: 'CEC-2030/17' }));
    expect(removed.candidates.get(candidateKey('R-NAT', 'C-NAT-01'))).toBe('removed');
    expect(refusal(removed, ev('candidate-removed', OPENS, { ...c, reference: 'again' }))).toBe(
      'status_unchanged',
    );
    const back = fold(
      ev('candidate-removed', OPENS, { ...c, reference: 'CEC-2030/17' }),
      ev('candidate-reinstated', OPENS, c),
    );
    expect(back.candidates.get(candidateKey('R-NAT', 'C-NAT-01'))).toBe('active');
    const s = initialState(index);
    expect(refusal(s, ev('candidate-withdrawn', OPENS, { race: 'R-NAT', candidate: 'C-71-1-01' }))).toBe(
      'unknown_candidate',
    );
    expect(refusal(s, ev('candidate-withdrawn', OPENS, { race: 'R-XX', candidate: 'C-NAT-01' }))).toBe(
      'unknown_candidate',
    );
    expect(refusal(s, ev('candidate-withdrawn', OPENS, { race: 'R-NAT', candidate: 'C-NAT-03' }))).toBe(
      'status_unchanged',
    );
  });

  it('the same id twice is one event', () => {
    const e = ev('paused', OPENS + HOUR);
    expect(refusal(fold(e), { ...e, detail: 'other' })).toBe('event_repeated');
  });

  it('shape: reason, id, election, each type its own fields', () => {
    const bad: [Partial<ElectionEventRecord>, ElectionEventRecord['type'], RegExp][] = [
      [{ detail: ' ' }, 'paused', /reason/],
      [{ detail: 'x'.repeat(501) }, 'paused', /longer than 500/],
      [{ id: 'E-1' }, 'paused', /id/],
      [{ election: 'other' }, 'paused', /election/],
      [{ by: '' }, 'paused', /by/],
      [{ race: 'R-NAT' }, 'candidate-removed', /race and candidate/],
      [{ race: 'R-NAT', candidate: 'C-NAT-01' }, 'candidate-removed', /reference/],
      [{ race: 'R-NAT', candidate: 'C-NAT-01' }, 'paused', /no race/],
      [{}, 'extended', /until/],
      [{ until: 'tomorrow' }, 'paused', /ISO/],
      [{ until: '2030-01-01T08:00:00Z' }, 'closed', /no until/],
      [{ reference: 'X' }, 'opened', /no reference/],
    ];
    for (const [extra, type, message] of bad)
      expect(eventShapeProblem(index, ev(type, OPENS, extra))).toMatch(message);
    expect(
      eventShapeProblem(index, { ...ev('opened', OPENS), type: 'precinct-reported' as 'opened' }),
    ).toMatch(/unknown type/);
  });
});

describe('operator signatures', () => {
  let stackDir: string;
  let keys: ElectionKeys;
  let publicKeys: OperatorKeys;

  beforeAll(async () => {
    stackDir = await mkdtemp(join(tmpdir(), 'saylau-state-'));
    await makeKeys(stackDir, index, { concurrency: 2 });
    keys = await readKeys(stackDir, index.id);
    publicKeys = await readOperatorKeys(stackDir, index.id);
  }, 60_000);

  afterAll(async () => {
    await rm(stackDir, { recursive: true, force: true });
  });

  it('makeKeys gives each operator a private key and publishes its public half with its name', async () => {
    expect([...keys.operators.keys()].sort()).toEqual(['OP-1', 'OP-2']);
    expect(await readFile(operatorKeyPath(stackDir, index.id, 'OP-1'), 'utf8')).toContain('PRIVATE KEY');
    expect(publicKeys.get('OP-2')).toMatchObject({
      name: 'Secretary',
      spki: keys.operators.get('OP-2')!.spki,
    });
  });

  it('a signed event verifies for its operator only, and not once changed', () => {
    const unsigned: UnsignedElectionEvent = {
      v: 1,
      id: newEventId(),
      election: index.id,
      type: 'paused',
      at: Date.now(),
      by: 'OP-1',
      detail: 'Power cut at the data centre',
    };
    const signed = signEvent(unsigned, keys.operators.get('OP-1')!.privateKey);
    expect(eventShapeProblem(index, signed)).toBeNull();
    expect(eventSignatureProblem(publicKeys, signed)).toBeNull();
    expect(eventSignatureProblem(publicKeys, { ...signed, detail: 'other' })).toMatch(/not OP-1's/);
    expect(eventSignatureProblem(publicKeys, { ...signed, by: 'OP-2' })).toMatch(/not OP-2's/);
    expect(eventSignatureProblem(publicKeys, { ...signed, by: 'OP-9' })).toMatch(/not an operator/);
    const byOther = signEvent(unsigned, keys.operators.get('OP-2')!.privateKey);
    expect(eventSignatureProblem(publicKeys, byOther)).toMatch(/not OP-1's/);
  });
});
