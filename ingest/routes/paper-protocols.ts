/**
 * Precinct protocols and observers' dissents (issue 15).
 *
 *   POST /v1/paper/protocols                     official's token of the precinct
 *     shape ─► token (official, this precinct) ─► precinct closed? ─► station key
 *     signature ─► checkProtocol (names the wrong line) ─► ledger.record(protocol)
 *     ─► 201 {status: 'accepted'} | 200 {status: 'repeated'} | 409 protocol_version_taken
 *
 *   POST /v1/paper/protocols/{precinct}/dissents  observer's token
 *     shape ─► token (observer) ─► observer limit (429) ─► that protocol version is in the log
 *     (404; 503 rebuilding while Redis is rebuilt)
 *     ─► ledger.record(dissent) ─► 201 {status: 'noted', id} | 200 {status: 'repeated', id}
 *
 * Both are written through the one ledger: to `paper` with acks=all, read
 * back before the answer, and a protocol version is taken by the first
 * protocol in the log (entries.ts). The signature is over the protocol's
 * canonical JSON without who sent it, when, or the signature
 * (`protocolSignedBytes`), by the station key of `public/precinct-keys.json`.
 */
import {
  dissentId,
  PAPER_KINDS,
  type PaperDissentRecord,
  type PaperProtocolRecord,
  RECORD_VERSION,
} from '../../common/records.js';
import {
  type PaperPrecinct,
  protocolProblem,
  type StaffClaims,
  signatureProblem,
} from '../../election/index.js';
import type { IngestContext } from '../context.js';
import { IngestError } from '../errors.js';
import type { Exchange, Reply } from '../http/exchange.js';
import { json } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';
import { dissentEntry, protocolEntry, protocolKey } from '../ledger/entries.js';
import { validateDissentRequest, validateProtocolRequest } from '../paper/protocol-schema.js';
import { parseBody } from '../schemas.js';
import { bearerClaims } from './bearer.js';

export function paperProtocolRoutes(ctx: IngestContext): RouteSpec[] {
  const { election, ledger, keys, index, limiter, metrics } = ctx;
  const precincts = new Map(election.config.paperPrecincts.map((p) => [p.id, p]));

  async function staff(ex: Exchange, role: StaffClaims['role']): Promise<StaffClaims> {
    const claims = await bearerClaims(ex.authorization, ctx.verifyStaffToken);
    if (claims.role !== role) throw new IngestError('token_wrong_role', `This needs an ${role}'s token.`);
    return claims;
  }

  function precinctOf(id: string): PaperPrecinct {
    const precinct = precincts.get(id);
    if (precinct === undefined) throw new IngestError('not_found', `No polling station ${id}.`);
    return precinct;
  }

  async function submit(ex: Exchange): Promise<Reply> {
    const request = parseBody(ex.body, validateProtocolRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const claims = await staff(ex, 'official');
    const precinct = precinctOf(request.precinct);
    if (claims.precinct !== precinct.id) {
      throw new IngestError(
        'token_wrong_role',
        `Official ${claims.id} is not of polling station ${precinct.id}.`,
      );
    }
    if (Date.now() < Date.parse(precinct.closes)) throw new IngestError('precinct_open');
    const { signature, ...protocol } = request;
    const unsigned = signatureProblem(keys.stations, protocol, signature);
    if (unsigned !== null) throw new IngestError('protocol_signature_invalid', unsigned);
    const problem = protocolProblem(election, precinct, protocol);
    if (problem !== null) throw new IngestError('protocol_invalid', problem);
    const record: PaperProtocolRecord = { ...protocol, submittedBy: claims.id, at: Date.now(), signature };
    const outcome = await ledger.record(protocolEntry(record, election.partitionsFor(protocol.region)));
    const body = {
      status: outcome === 'created' ? 'accepted' : 'repeated',
      precinct: precinct.id,
      version: protocol.version,
    };
    return json(outcome === 'created' ? '201 Created' : '200 OK', Buffer.from(JSON.stringify(body)));
  }

  async function dissent(ex: Exchange): Promise<Reply> {
    const request = parseBody(ex.body, validateDissentRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const claims = await staff(ex, 'observer');
    const waitMs = await limiter.take('observer', claims.id, ctx.config.ingest.paperObserverLimit);
    if (waitMs > 0) {
      metrics.rateLimited.inc({ limit: 'observer' });
      throw new IngestError('rate_limited', undefined, { retryAfterSec: Math.ceil(waitMs / 1000) });
    }
    const precinct = precinctOf(ex.params[0] ?? '');
    const region = election.district(precinct.district)!.region;
    const [taken] = await index.values([protocolKey(region, election.id, precinct.id, request.version)]);
    if (!taken?.startsWith('reported:')) {
      // An emptied Redis has no protocol keys until it is rebuilt from the log: that is not a "no".
      if ((await index.incomplete([region])).length > 0) throw new IngestError('rebuilding');
      throw new IngestError(
        'not_found',
        `No protocol version ${request.version} of ${precinct.id} is in the log.`,
      );
    }
    const note = {
      election: election.id,
      precinct: precinct.id,
      version: request.version,
      author: claims.id,
      text: request.text,
    };
    const record: PaperDissentRecord = {
      v: RECORD_VERSION,
      kind: PAPER_KINDS.dissent,
      id: dissentId(note),
      region,
      district: precinct.district,
      ...note,
      at: Date.now(),
    };
    const outcome = await ledger.record(dissentEntry(record, election.partitionsFor(region)));
    const body = { status: outcome === 'created' ? 'noted' : 'repeated', id: record.id };
    return json(outcome === 'created' ? '201 Created' : '200 OK', Buffer.from(JSON.stringify(body)));
  }

  const route = (name: string, pattern: string, params: number, handle: RouteSpec['handle']): RouteSpec => ({
    name,
    method: 'post',
    pattern,
    params,
    body: true,
    auth: true,
    conditional: false,
    admission: true,
    padTo: null,
    handle,
  });
  return [
    route('paper-protocols', '/v1/paper/protocols', 0, submit),
    route('paper-dissents', '/v1/paper/protocols/:precinct/dissents', 1, dissent),
  ];
}
