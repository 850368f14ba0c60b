/**
 * Request bodies of the protocol routes (TypeBox, compiled once), in the
 * shape of `common/records.ts`'s paper records: a submitted protocol is the
 * signed part plus its signature; ingest adds who sent it and when.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';

const Id = T.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' });
const ElectionId = T.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const Count = T.Integer({ minimum: 0, maximum: 1_000_000_000 });

export const ProtocolRequest = T.Object(
  {
    v: T.Literal(1),
    kind: T.Literal('protocol'),
    election: ElectionId,
    region: T.String({ minLength: 1, maxLength: 64 }),
    district: Id,
    precinct: Id,
    version: T.Integer({ minimum: 1, maximum: 1000 }),
    reason: T.String({ maxLength: 1000 }),
    issued: Count,
    spoiled: Count,
    unused: Count,
    /** [race, candidate, votes as a decimal string] */
    results: T.Array(T.Tuple([Id, Id, T.String({ maxLength: 12 })]), { maxItems: 2000 }),
    keyId: T.String({ pattern: '^[0-9a-f]{16}$' }),
    signature: T.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);

export const DissentRequest = T.Object(
  {
    election: ElectionId,
    /** The protocol version the note is about. */
    version: T.Integer({ minimum: 1, maximum: 1000 }),
    text: T.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);

export type ProtocolRequest = Static<typeof ProtocolRequest>;
export type DissentRequest = Static<typeof DissentRequest>;

const ajv = new Ajv({ allErrors: false, strict: true });
export const validateProtocolRequest = ajv.compile<ProtocolRequest>(ProtocolRequest);
export const validateDissentRequest = ajv.compile<DissentRequest>(DissentRequest);
