/**
 * The snapshot format as a compiled schema, for reading snapshots someone
 * else wrote (verify, STYLE §5). Strict: an unknown member is an error, so a
 * field cannot be smuggled in that the signature covers but readers ignore.
 * Kept in step with `snapshot.ts` by the type assertion at the bottom.
 */
import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { AboutSchema } from '../election/index.js';
import { SNAPSHOT_VERSION, type Snapshot } from './snapshot.js';

const Strict = <P extends Record<string, TSchema>>(p: P) => T.Object(p, { additionalProperties: false });
const Count = T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Id = T.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' });
const Names = Strict({ kk: T.String(), ru: T.String(), en: T.String() });
const Hex256 = T.String({ pattern: '^[0-9a-f]{64}$' });

const Counts = Strict({
  candidates: T.Array(Strict({ id: Id, online: Count, paper: Count, total: Count })),
  valid: Count,
  excluded: Count,
});

const IsoSeconds = T.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' });

const TurnoutFields = {
  roll: Count,
  issuedOnline: Count,
  issuedPaper: Count,
  castOnline: Count,
  castPaper: Count,
  precincts: Count,
  precinctsReported: Count,
};

/** Every category, each with every status (common/records.ts REPORT_CATEGORIES × REPORT_STATUSES). */
const StatusCounts = Strict({ open: Count, investigating: Count, upheld: Count, dismissed: Count });
const ReportTable = Strict({
  coercion: StatusCounts,
  'vote-buying': StatusCounts,
  campaigning: StatusCounts,
  technical: StatusCounts,
  procedure: StatusCounts,
  other: StatusCounts,
});

const Votes = T.Union([Count, T.String()]);
const Final = Strict({
  declaration: T.String({ minLength: 1 }),
  by: T.String(),
  reason: T.String(),
  at: Count,
  reference: T.String(),
  round: T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  winners: T.Array(
    Strict({
      race: Id,
      seats: Count,
      winners: T.Array(Id),
      tie: T.Union([Strict({ at: Count, candidates: T.Array(Id) }), T.Null()]),
    }),
  ),
  changes: T.Union([
    T.Array(
      Strict({
        race: Id,
        district: T.Union([Id, T.Null()]),
        candidate: Id,
        what: T.Union([T.Literal('votes'), T.Literal('status'), T.Literal('winner')]),
        from: Votes,
        to: Votes,
      }),
    ),
    T.Null(),
  ]),
});

export const SnapshotSchema = Strict({
  v: T.Union([T.Literal(2), T.Literal(3), T.Literal(4), T.Literal(SNAPSHOT_VERSION)]),
  election: Strict({
    id: T.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    names: Names,
    closes: T.Optional(IsoSeconds),
    snapshotIntervalSec: T.Optional(T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    about: T.Optional(AboutSchema),
  }),
  seq: T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  takenAt: IsoSeconds,
  prevHash: T.Union([Hex256, T.Null()]),
  races: T.Array(
    Strict({
      id: Id,
      names: Names,
      seats: Count,
      maxChoices: Count,
      candidates: T.Array(
        Strict({
          id: Id,
          names: Names,
          partyBranch: Names,
          status: T.Union([T.Literal('active'), T.Literal('withdrawn'), T.Literal('removed')]),
        }),
      ),
      total: Counts,
      regions: T.Array(
        Strict({ code: T.String(), total: Counts, districts: T.Array(Strict({ id: Id, total: Counts })) }),
      ),
    }),
  ),
  turnout: Strict({
    total: Strict(TurnoutFields),
    regions: T.Array(Strict({ code: T.String(), names: Names, ...TurnoutFields })),
    districts: T.Optional(T.Array(Strict({ id: Id, region: T.String(), names: Names, ...TurnoutFields }))),
  }),
  reporting: Strict({ precincts: Count, reported: Count }),
  precincts: T.Optional(
    T.Array(
      Strict({
        id: Id,
        region: T.String(),
        district: Id,
        status: T.Union([T.Literal('accepted'), T.Literal('rejected'), T.Literal('missing')]),
        rejection: T.String(),
        version: Count,
        reason: T.String(),
        issued: Count,
        spoiled: Count,
        unused: Count,
        checkIns: Count,
        keyId: T.String({ pattern: '^([0-9a-f]{16})?$' }),
        signature: T.String({ pattern: '^([A-Za-z0-9_-]{86})?$' }),
        dissents: T.Array(Strict({ version: Count, author: T.String(), text: T.String() })),
      }),
    ),
  ),
  reports: T.Optional(ReportTable),
  codes: Strict({ count: Count, merkleRoot: Hex256, file: T.String({ pattern: '^codes/\\d+\\.txt$' }) }),
  districtKeys: T.Array(Strict({ id: Id, sha256: Hex256 })),
  final: T.Optional(Final),
  signature: T.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
});

const validate = new Ajv({ allErrors: false }).compile<Static<typeof SnapshotSchema>>(SnapshotSchema);

/** Checks shape only (sums are totals.ts's job); returns the first problem or `null`. */
export function snapshotShapeProblem(value: unknown): string | null {
  if (validate(value)) {
    // v3 on carries the precincts, v2 (before issue 15) does not; only v4 on may be final (issue 16);
    // v5 on states the closing time, the interval and district turnout (issue 17), and may carry `about`.
    const { v, precincts, election, turnout } = value;
    if (v !== 2 && precincts === undefined) return '/ must have property precincts';
    if (v === 2 && precincts !== undefined) return `/precincts is not part of v${v}`;
    if (v < 4 && value.final !== undefined) return `/final is not part of v${v}`;
    const v5 = {
      '/election/closes': election.closes,
      '/election/snapshotIntervalSec': election.snapshotIntervalSec,
      '/turnout/districts': turnout.districts,
    };
    for (const [path, present] of Object.entries(v5)) {
      if (v >= 5 && present === undefined) return `${path} is required from v5 on`;
      if (v < 5 && present !== undefined) return `${path} is not part of v${v}`;
    }
    if (v < 5 && election.about !== undefined) return `/election/about is not part of v${v}`;
    return null;
  }
  const first = validate.errors?.[0];
  return `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`;
}

// Compile-time: the schema's type and the hand-written interface stay the same.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _inSync: Same<Static<typeof SnapshotSchema>, Mutable<Snapshot>> = true;
type Mutable<V> = V extends readonly (infer E)[]
  ? Mutable<E>[]
  : V extends object
    ? { -readonly [K in keyof V]: Mutable<V[K]> }
    : V;
