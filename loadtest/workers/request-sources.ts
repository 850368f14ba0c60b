/**
 * What an HTTP worker sends: every request is distinct and valid, built
 * before the clock needs it (one string per request, headers included), and
 * for casts the ballotId it carries, so receipts can be checked as a set.
 *
 * - `cast`: a pre-signed credential from the cache (its slice of it) and
 *   selections valid for the credential's district, padded like the voter
 *   client pads (DESIGN §4) to BALLOT_BODY_BYTES.
 * - `issue`: a dev identity token for a distinct roll member and a random
 *   blinded message below the district modulus. A blinded message is
 *   uniformly random to the server by construction, so this is exactly the
 *   server's work for a real voter; tokens are signed before the clock starts.
 * - `check-in`: a paper check-in of a distinct member by an official of the
 *   member's precinct (a staff token per station, signed once), stations
 *   interleaved so every station's burst is spread over the phase; the id
 *   a 2xx answer confirms is the member's voterHash, so check-ins can be
 *   checked as a set against the `issuance` log.
 * - `get`: a fixed GET (baselines).
 */
import { randomBytes } from 'node:crypto';
import { ballotIdOf } from '../../common/ballot-id.js';
import {
  issueDevStaffToken,
  issueDevToken,
  listSampleMembers,
  loadElection,
  MAX_SAMPLE_PAGE,
  readKeys,
  voterHash,
} from '../../election/index.js';
import { modulusOf } from '../../ingest/crypto/blind-rsa.js';
import { MESSAGE_BYTES, RECORD_BYTES, readCredentials } from '../credentials.js';
import type { RequestSource } from './protocol.js';

/** Ballot request bodies are padded to this many bytes (the `pad` field). */
export const BALLOT_BODY_BYTES = 2048;

export interface Requests {
  /** The next request (raw HTTP/1.1 text), or null when the source is exhausted. */
  next(): string | null;
  /** The id the last request from `next()` records (a cast's ballotId, a check-in's voterHash); null for others. */
  readonly lastId: string | null;
  /** A 2xx answer confirms `lastId` itself (check-ins), rather than a receipt read from the body (casts). */
  readonly confirmsId: boolean;
  readonly total: number;
}

const head = (method: string, path: string, extra: string, bodyLength: number): string =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}` +
  (bodyLength > 0 ? `Content-Type: application/json\r\nContent-Length: ${bodyLength}\r\n` : '') +
  '\r\n';

export async function openSource(source: RequestSource): Promise<Requests> {
  switch (source.type) {
    case 'cast':
      return castSource(source);
    case 'issue':
      return issueSource(source);
    case 'check-in':
      return checkInSource(source);
    default: {
      const request = head('GET', source.path, '', 0);
      return { next: () => request, lastId: null, confirmsId: false, total: Number.POSITIVE_INFINITY };
    }
  }
}

async function castSource(source: Extract<RequestSource, { type: 'cast' }>): Promise<Requests> {
  const index = loadElection(source.electionPath);
  const districts = index.config.districts;
  const records = await readCredentials(source.credentialFile, source.first, source.count);
  // Four selection variants per district, so every candidate position gets votes.
  const variants = districts.map((d) =>
    [0, 1, 2, 3].map((pick) =>
      JSON.stringify(
        index.racesOf(d.id).map((race) => {
          const active = race.candidates.filter((c) => c.status === 'active');
          return { race: race.id, choices: [active[(pick + race.id.length) % active.length]!.id] };
        }),
      ),
    ),
  );
  const prefix = `{"election":${JSON.stringify(index.id)},"district":`;
  let i = 0;
  let lastId: string | null = null;
  return {
    total: source.count,
    confirmsId: false,
    get lastId() {
      return lastId;
    },
    next(): string | null {
      if (i >= source.count) return null;
      const at = i * RECORD_BYTES;
      const d = records.readUInt16BE(at);
      lastId = ballotIdOf(records.subarray(at + 2, at + 2 + MESSAGE_BYTES));
      const message = records.toString('base64url', at + 2, at + 2 + MESSAGE_BYTES);
      const signature = records.toString('base64url', at + 2 + MESSAGE_BYTES, at + RECORD_BYTES);
      const selections = variants[d]![(source.first + i) & 3]!;
      i++;
      const body = `${prefix}"${districts[d]!.id}","credential":{"message":"${message}","signature":"${signature}"},"selections":${selections},"pad":"`;
      const pad = Math.max(0, BALLOT_BODY_BYTES - body.length - 2);
      const full = `${body}${' '.repeat(pad)}"}`;
      return head('POST', '/v1/ballots', '', full.length) + full;
    },
  };
}

async function issueSource(source: Extract<RequestSource, { type: 'issue' }>): Promise<Requests> {
  const index = loadElection(source.electionPath);
  const keys = await readKeys(source.stackDir, index.id);
  const moduli = new Map([...keys.districts].map(([id, k]) => [id, modulusOf(k.publicKey)]));
  const requests: string[] = [];
  for (let from = source.first; from < source.first + source.count; from += MAX_SAMPLE_PAGE) {
    const page = listSampleMembers(
      index,
      from,
      Math.min(MAX_SAMPLE_PAGE, source.first + source.count - from),
    );
    for (const member of page) {
      const modulus = moduli.get(member.district)!;
      const blinded = randomBytes(modulus.length);
      blinded[0] = Math.max(0, modulus[0]! - 1); // below n
      const token = await issueDevToken(keys, index, member.memberId);
      const body = JSON.stringify({ election: index.id, blindedMessage: blinded.toString('base64url') });
      requests.push(
        head('POST', '/v1/credentials', `Authorization: Bearer ${token}\r\n`, body.length) + body,
      );
    }
  }
  let i = 0;
  return {
    total: requests.length,
    lastId: null,
    confirmsId: false,
    next: () => (i < requests.length ? requests[i++]! : null),
  };
}

async function checkInSource(source: Extract<RequestSource, { type: 'check-in' }>): Promise<Requests> {
  const index = loadElection(source.electionPath);
  const keys = await readKeys(source.stackDir, index.id);
  const queues: { request: string; id: string }[][] = [];
  for (const station of source.stations) {
    const token = await issueDevStaffToken(keys, index, {
      role: 'official',
      id: station.official,
      precinct: station.precinct,
    });
    const auth = `Authorization: Bearer ${token}\r\n`;
    queues.push(
      station.memberIds.map((memberId) => {
        const body = JSON.stringify({ election: index.id, memberId });
        return {
          request: head('POST', '/v1/paper/check-ins', auth, body.length) + body,
          id: voterHash(keys.pepper, memberId),
        };
      }),
    );
  }
  // Round robin over the stations: each station's members in the order given.
  const interleaved: { request: string; id: string }[] = [];
  const total = queues.reduce((n, q) => n + q.length, 0);
  for (let k = 0; interleaved.length < total; k++) {
    for (const queue of queues) if (k < queue.length) interleaved.push(queue[k]!);
  }
  let i = 0;
  let lastId: string | null = null;
  return {
    total: interleaved.length,
    confirmsId: true,
    get lastId() {
      return lastId;
    },
    next(): string | null {
      const item = interleaved[i];
      if (item === undefined) return null;
      i++;
      lastId = item.id;
      return item.request;
    },
  };
}
