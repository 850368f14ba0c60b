/**
 * The voter's district slice (`GET /v1/elections/{id}/districts/{district}`),
 * accepted only if its SHA-256, over the bytes exactly as received, is the
 * digest the summary lists for that district. The slice carries the key the
 * voter blinds against and the races they mark: a slice swapped in transit
 * or by a cache is refused (`manifest_mismatch`) before anything is blinded
 * or sent. The summary and the slices come from the same ingest start-up
 * (election/manifest.ts `servedManifest`), so an honest server always agrees
 * with itself.
 */
import { ApiError, getFixed, parseJson } from './api.js';
import type { DistrictSlice, ElectionSummary } from './manifest.js';

const hex = (digest: ArrayBuffer): string =>
  Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Fetches and checks `district`'s slice.
 * @throws ApiError `not_eligible` for a district the summary does not list,
 *   `manifest_mismatch` when the bytes are not the ones the summary names,
 *   or the fetch's own codes
 */
export async function fetchSlice(summary: ElectionSummary, district: string): Promise<DistrictSlice> {
  const expected = summary.districts.find((d) => d.id === district)?.digest;
  if (expected === undefined) throw new ApiError('not_eligible', 0, null);
  const bytes = await getFixed(
    `/v1/elections/${encodeURIComponent(summary.id)}/districts/${encodeURIComponent(district)}`,
  );
  if (hex(await crypto.subtle.digest('SHA-256', bytes)) !== expected) {
    throw new ApiError('manifest_mismatch', 0, null);
  }
  const slice = parseJson<DistrictSlice>(bytes);
  // The digest covers the bytes; these fields tie them to the election and district asked for.
  if (slice?.election !== summary.id || slice.district?.id !== district) {
    throw new ApiError('manifest_mismatch', 0, null);
  }
  return slice;
}
