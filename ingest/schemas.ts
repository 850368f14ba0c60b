/**
 * Request body schemas (TypeBox), compiled by ajv once at load (STYLE 5).
 * Strict: unknown properties are refused, sizes are bounded, binary fields
 * are base64url. Handlers get typed values or a `bad_request`.
 */
import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { REPORT_CATEGORIES } from '../common/records.js';
import { IngestError } from './errors.js';

const Id = T.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' });
const ElectionId = T.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const Base64Url = (maxLength: number) => T.String({ pattern: '^[A-Za-z0-9_-]+$', minLength: 1, maxLength });

export const CredentialRequest = T.Object(
  {
    election: ElectionId,
    /** RFC 9474 blinded message: kLen bytes (≤ 4096-bit keys). */
    blindedMessage: Base64Url(700),
  },
  { additionalProperties: false },
);

/**
 * The highest revision a ballot may carry: enough to re-vote whenever a
 * coercer has gone, few enough that one credential cannot fill the log.
 */
export const MAX_REV = 100;

export const BallotRequest = T.Object(
  {
    election: ElectionId,
    district: Id,
    credential: T.Object(
      {
        /** The prepared message: 32-byte random prefix ‖ client message. */
        message: Base64Url(700),
        signature: Base64Url(700),
      },
      { additionalProperties: false },
    ),
    selections: T.Array(
      T.Object({ race: Id, choices: T.Array(Id, { maxItems: 100 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 50 },
    ),
    /**
     * The ballot's revision under its credential (default 0). Above 0 only
     * where the election allows re-voting; the highest revision counts.
     */
    rev: T.Optional(T.Integer({ minimum: 0, maximum: MAX_REV })),
    /** Client-side padding to a fixed request size (DESIGN §4); ignored. */
    pad: T.Optional(T.String({ pattern: '^ *$', maxLength: 8192 })),
  },
  { additionalProperties: false },
);

export const DevLoginRequest = T.Object(
  { election: ElectionId, memberId: T.String({ pattern: '^[0-9]{1,20}$' }) },
  { additionalProperties: false },
);

/** A paper check-in: the member id as the roll lists it (an IIN is 12 digits), never a hash. */
export const PaperCheckInRequest = T.Object(
  { election: ElectionId, memberId: T.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) },
  { additionalProperties: false },
);

/**
 * A violation report (ingest/routes/reports.ts). Texts may hold line breaks,
 * never other control characters; the attachment is a reference or URL to
 * evidence kept elsewhere, one line.
 */
export const ReportRequest = T.Object(
  {
    election: ElectionId,
    category: T.Union(REPORT_CATEGORIES.map((c) => T.Literal(c))),
    region: Id,
    district: T.Optional(Id),
    text: T.String({
      minLength: 1,
      maxLength: 2000,
      pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]+$',
    }),
    attachment: T.Optional(
      T.String({ minLength: 1, maxLength: 300, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    ),
  },
  { additionalProperties: false },
);

export type CredentialRequest = Static<typeof CredentialRequest>;
export type BallotRequest = Static<typeof BallotRequest>;
export type DevLoginRequest = Static<typeof DevLoginRequest>;
export type PaperCheckInRequest = Static<typeof PaperCheckInRequest>;
export type ReportRequest = Static<typeof ReportRequest>;

const ajv = new Ajv({ allErrors: false, strict: true });

export const validateCredentialRequest = ajv.compile<CredentialRequest>(CredentialRequest);
export const validateBallotRequest = ajv.compile<BallotRequest>(BallotRequest);
export const validateDevLoginRequest = ajv.compile<DevLoginRequest>(DevLoginRequest);
export const validatePaperCheckInRequest = ajv.compile<PaperCheckInRequest>(PaperCheckInRequest);
export const validateReportRequest = ajv.compile<ReportRequest>(ReportRequest);

/** Parses a JSON body and validates it; throws `bad_request` naming the first problem. */
export function parseBody<V>(body: Buffer | null, validate: ValidateFunction<V>): V {
  if (body === null || body.length === 0) throw new IngestError('bad_request', 'A JSON body is required.');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new IngestError('bad_request', 'The body is not JSON.', { cause });
  }
  if (!validate(value)) {
    const first = validate.errors?.[0];
    throw new IngestError(
      'bad_request',
      `${first?.instancePath || 'body'} ${first?.message ?? 'is invalid'}`,
    );
  }
  return value;
}

export type { TSchema };
