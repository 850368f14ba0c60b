/**
 * `GET /v1/receipts/{ballotId}`: `counted` when the latest published snapshot
 * lists the ballot, `accepted` when Redis has it marked cast, else 404.
 *
 * The receipt does not say which region the ballot belongs to (that would
 * narrow the voter down), so the lookup asks every region's `cred:` key in one
 * auto-pipelined round trip.
 */
import { parseReceipt } from '../../common/ballot-id.js';
import type { IngestContext } from '../context.js';
import { IngestError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';
import { credKey } from '../ledger/entries.js';

const ACCEPTED = json('200 OK', { status: 'accepted' });

export function receiptsRoute(ctx: IngestContext): RouteSpec {
  const { election, index, counted } = ctx;
  const regions = election.config.regions.map((r) => r.code);

  async function handle(ex: Exchange): Promise<Reply> {
    const ballotId = parseReceipt(ex.params[0] ?? '');
    if (ballotId === null) throw new IngestError('bad_request', 'Not a receipt.');
    const snapshot = counted.snapshotOf(ballotId);
    if (snapshot !== null) return json('200 OK', { status: 'counted', snapshot });
    const values = await index.values(regions.map((region) => credKey(region, election.id, ballotId)));
    for (const value of values) if (value?.startsWith('cast:')) return ACCEPTED;
    throw new IngestError('not_found', 'No ballot with this receipt has been accepted.');
  }

  return {
    name: 'receipts',
    method: 'get',
    pattern: '/v1/receipts/:ballotId',
    params: 1,
    body: false,
    auth: false,
    conditional: false,
    admission: true,
    padTo: null,
    handle,
  };
}
