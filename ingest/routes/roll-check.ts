/**
 * Is the member on the roll of this district? The one check issuance and
 * paper check-ins share before they record anything.
 */
import type { DistrictPlan } from '../ballot-rules.js';
import { IngestError } from '../errors.js';
import type { IndexStore } from '../ledger/index-store.js';

/**
 * Resolves when the roll puts `voterHash` in `plan`'s district.
 * @throws IngestError `not_eligible` (with `message` if given); `rebuilding` while the
 *   region's index is being restored: an emptied Redis has no roll until then, and that is not a "no"
 */
export async function assertOnRoll(
  index: IndexStore,
  rollKey: string,
  voterHash: string,
  plan: DistrictPlan,
  message?: string,
): Promise<void> {
  if ((await index.rollDistrict(rollKey, voterHash)) === plan.id) return;
  if ((await index.incomplete([plan.region])).length > 0) throw new IngestError('rebuilding');
  throw new IngestError('not_eligible', message);
}
