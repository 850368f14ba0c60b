/**
 * The election config format (DESIGN §8), as one TypeBox schema.
 *
 * The schema checks shapes only; rules that relate one part of the file to
 * another (unknown ids, duplicates, partition layout, opens < closes) live in
 * `validate.ts`, which runs them after ajv and reports them the same way.
 *
 *   ElectionConfig
 *   ├─ regions[]        code (ISO 3166-2), names, partitions[] (Kafka), population?
 *   ├─ districts[]      id, region → regions[].code, names, races[] → races[].id
 *   ├─ partyBranches[]  id, names
 *   ├─ races[]          id, names, seats, maxChoices,
 *   │                   candidates[] (id, names, partyBranch → partyBranches[].id, status)
 *   ├─ paperPrecincts[] id, district → districts[].id, address, opens, closes,
 *   │                   officials[] (id, name): special polling stations of the paper day
 *   ├─ sampleRoll?      seed, size: a synthetic roll instead of an imported CSV
 *   ├─ about?           organiser, help (contact), privacy: the trust cues every public page shows
 *   ├─ operators?[]     id, name: the commission's operators (sign election events, role `operator`)
 *   └─ committee?[]     id, name: the control committee (triages violation reports, role `committee`)
 */
import { type Static, Type as T, type TSchema } from '@sinclair/typebox';

/**
 * Ids end up in Redis keys, Kafka records, file names and URLs, so they are
 * kept to a safe alphabet: no `{}` (Redis hash tags), `:` (key separator),
 * `/` or `.` (paths).
 */
const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

/** Election ids also name files and directories; lower case avoids case-folding file systems. */
export const ELECTION_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

/** ISO 3166-2 subdivision code: country alpha-2, hyphen, 1–3 alphanumerics (`KZ-75`). */
const REGION_CODE_PATTERN = '^[A-Z]{2}-[A-Z0-9]{1,3}$';

/**
 * UTC instants only (`Z`, no offsets): every process compares them as
 * instants and a local offset in the file would be a trap for editors.
 */
const UTC_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$';

const Id = T.String({ pattern: ID_PATTERN });
const Text = T.String({ minLength: 1, maxLength: 200 });

/** A plain `enum` keyword: ajv then reports "must be one of …" instead of one error per union branch. */
function StringEnum<const V extends readonly string[]>(values: V) {
  return T.Unsafe<V[number]>({ type: 'string', enum: [...values] });
}

/** Strict objects: a misspelt property is an error, not a silently ignored setting. */
function Strict<P extends Record<string, TSchema>>(properties: P) {
  return T.Object(properties, { additionalProperties: false });
}

/** Kazakh, Russian and English: the three languages of every public page (DESIGN §6). */
export const NamesSchema = Strict({ kk: Text, ru: Text, en: Text });

/** A paragraph in the three languages (the privacy note). */
const ParagraphSchema = Strict({
  kk: T.String({ minLength: 1, maxLength: 1200 }),
  ru: T.String({ minLength: 1, maxLength: 1200 }),
  en: T.String({ minLength: 1, maxLength: 1200 }),
});

/**
 * Who runs the election and whom to ask: shown on the voter page and the
 * results site so a voter can tell the page is the real one and where help is.
 */
export const AboutSchema = Strict({
  /** The body that runs the election (the party's central election commission). */
  organiser: NamesSchema,
  help: Strict({
    /** How to reach the help desk, in words (hours included). */
    names: NamesSchema,
    phone: T.Optional(T.String({ pattern: '^\\+?[0-9 ()-]{3,30}$' })),
    email: T.Optional(T.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 200 })),
    url: T.Optional(T.String({ pattern: '^https://[^\\s]+$', maxLength: 300 })),
  }),
  /** One paragraph: what is kept about the voter, by whom, and what is never kept. */
  privacy: ParagraphSchema,
});

export const CANDIDATE_STATUSES = ['active', 'withdrawn', 'removed'] as const;

export const CandidateSchema = Strict({
  id: Id,
  names: NamesSchema,
  /** Id of the party branch that nominated the candidate (`partyBranches[].id`). */
  partyBranch: Id,
  /**
   * `withdrawn`: left the race, still printed on paper ballots; `removed`:
   * struck off, votes shown but excluded from the valid total (DESIGN §6).
   */
  status: StringEnum(CANDIDATE_STATUSES),
});

export const RaceSchema = Strict({
  id: Id,
  names: NamesSchema,
  /** Seats the race fills. */
  seats: T.Integer({ minimum: 1, maximum: 1000 }),
  /** Most candidates one ballot may mark in this race. */
  maxChoices: T.Integer({ minimum: 1, maximum: 1000 }),
  candidates: T.Array(CandidateSchema, { minItems: 1, maxItems: 1000 }),
});

export const RegionSchema = Strict({
  code: T.String({ pattern: REGION_CODE_PATTERN }),
  names: NamesSchema,
  /**
   * Kafka partitions of every region-partitioned topic that belong to this
   * region (DESIGN §4). Across all regions they must be exactly 0..N-1.
   */
  partitions: T.Array(T.Integer({ minimum: 0, maximum: 9999 }), { minItems: 1, uniqueItems: true }),
  /** Inhabitants, used only to spread the synthetic sample roll; optional for real elections. */
  population: T.Optional(T.Integer({ minimum: 1 })),
});

/** Named once and referenced by candidates, so a branch's name is never spelt two ways. */
export const PartyBranchSchema = Strict({
  id: Id,
  names: NamesSchema,
});

export const DistrictSchema = Strict({
  id: Id,
  region: T.String({ pattern: REGION_CODE_PATTERN }),
  names: NamesSchema,
  /** Every race a voter of this district may mark; the district key proves membership (DESIGN §3). */
  races: T.Array(Id, { minItems: 1, uniqueItems: true }),
});

/** A polling-station official: signs in with an identity token whose `sub` is this id (role `official`). */
export const OfficialSchema = Strict({
  /** Unique across the election: an official is bound to one precinct. */
  id: Id,
  /** As printed on the protocol; not published. */
  name: Text,
});

/**
 * A special polling station of the paper channel. Its window may differ from
 * the online one (in 2020 the paper day was the day after the online vote).
 */
export const PaperPrecinctSchema = Strict({
  id: Id,
  district: Id,
  address: Text,
  /** First instant the station checks members in (UTC). */
  opens: T.String({ pattern: UTC_PATTERN }),
  /** First instant check-ins are refused; protocols are accepted from then on (UTC). */
  closes: T.String({ pattern: UTC_PATTERN }),
  officials: T.Array(OfficialSchema, { minItems: 1, maxItems: 100 }),
});

/**
 * A member of the commission's staff: an operator (holds an Ed25519 key,
 * `keys/<election>/operators/<id>.pem`, signs election events) or a control
 * committee member. Their identity tokens carry this id as `sub`.
 */
export const StaffMemberSchema = Strict({
  id: Id,
  name: Text,
});

export const SampleRollSchema = Strict({
  /** Any string; the same seed always yields the same members. */
  seed: T.String({ minLength: 1, maxLength: 200 }),
  /** Number of members; at most 2^36 because member ids are 11 digits plus a check digit. */
  size: T.Integer({ minimum: 1, maximum: 2 ** 36 }),
});

export const ElectionConfigSchema = Strict({
  /** Editors' schema hint; ignored. */
  $schema: T.Optional(T.String()),
  id: T.String({ pattern: ELECTION_ID_PATTERN }),
  names: NamesSchema,
  /** First instant ballots are accepted (UTC). */
  opens: T.String({ pattern: UTC_PATTERN }),
  /** First instant ballots are refused (UTC). */
  closes: T.String({ pattern: UTC_PATTERN }),
  /** Seconds between result snapshots (DESIGN §6: 30 min normally, seconds in demos). */
  snapshotIntervalSec: T.Integer({ minimum: 1, maximum: 86_400 }),
  /**
   * Width of a ballot's time bucket, seconds (whole minutes): a ballot record
   * says only which bucket it was cast in, so its anonymity set is its
   * district's ballots of that bucket (common/records.ts). Default 1800.
   */
  castBucketSec: T.Optional(T.Integer({ minimum: 60, maximum: 86_400, multipleOf: 60 })),
  /**
   * Re-voting (docs/guarantees.md § Re-voting): a credential may cast again
   * with a higher `rev`, and its highest revision counts. Default false: a
   * second ballot under one credential is refused.
   */
  revoting: T.Optional(T.Boolean()),
  regions: T.Array(RegionSchema, { minItems: 1 }),
  districts: T.Array(DistrictSchema, { minItems: 1 }),
  partyBranches: T.Array(PartyBranchSchema),
  races: T.Array(RaceSchema, { minItems: 1 }),
  paperPrecincts: T.Array(PaperPrecinctSchema),
  /** Present for demo elections: a roll generated from a seed instead of imported. */
  sampleRoll: T.Optional(SampleRollSchema),
  /** Organiser, help contact and privacy note for the public pages (issue 17). */
  about: T.Optional(AboutSchema),
  /** The commission's operators: open, pause, close, candidate status, declare (signed events). */
  operators: T.Optional(T.Array(StaffMemberSchema, { maxItems: 100 })),
  /** The control committee: triages violation reports. */
  committee: T.Optional(T.Array(StaffMemberSchema, { maxItems: 100 })),
});

/** Deeply read-only: the loaded config is frozen at run time, and the types say so. */
type Frozen<V> = V extends readonly (infer E)[]
  ? readonly Frozen<E>[]
  : V extends object
    ? { readonly [K in keyof V]: Frozen<V[K]> }
    : V;

export type ElectionConfig = Frozen<Static<typeof ElectionConfigSchema>>;
export type Names = ElectionConfig['names'];
export type About = NonNullable<ElectionConfig['about']>;
export type Region = ElectionConfig['regions'][number];
export type District = ElectionConfig['districts'][number];
export type Race = ElectionConfig['races'][number];
export type Candidate = Race['candidates'][number];
export type CandidateStatus = Candidate['status'];
export type PartyBranch = ElectionConfig['partyBranches'][number];
export type PaperPrecinct = ElectionConfig['paperPrecincts'][number];
export type Official = PaperPrecinct['officials'][number];
export type SampleRoll = NonNullable<ElectionConfig['sampleRoll']>;
export type StaffMember = NonNullable<ElectionConfig['operators']>[number];
