/**
 * The election manifest (`GET /v1/elections/{id}`, election/manifest.ts) as
 * the page uses it, and the fixed request size derived from it.
 */
import { fromB64u } from './bytes.js';

/** A name in each of the client's languages. */
export type Names = Readonly<Record<'kk' | 'ru' | 'en', string>>;

/** The config's `about` (election/config-schema.ts `About`). */
export interface About {
  readonly organiser: Names;
  readonly help: {
    readonly names: Names;
    readonly phone?: string;
    readonly email?: string;
    readonly url?: string;
  };
  readonly privacy: Names;
}

export interface Selection {
  readonly race: string;
  readonly choices: readonly string[];
}

export interface Candidate {
  readonly id: string;
  readonly names: Names;
  readonly partyBranch: string;
  readonly status: 'active' | 'withdrawn' | 'removed';
}

export interface Race {
  readonly id: string;
  readonly names: Names;
  readonly seats: number;
  readonly maxChoices: number;
  readonly candidates: readonly Candidate[];
}

export interface District {
  readonly id: string;
  readonly region: string;
  readonly names: Names;
  readonly races: readonly string[];
  readonly key: { readonly alg: string; readonly spki: string };
}

export interface Manifest {
  readonly id: string;
  readonly names: Names;
  readonly opens: string;
  readonly closes: string;
  readonly snapshotIntervalSec: number;
  /** Organiser, help contact, privacy note (config `about`): the trust cues of every view (trust.ts). */
  readonly about?: About;
  readonly regions: readonly { readonly code: string; readonly names: Names }[];
  readonly districts: readonly District[];
  readonly partyBranches: readonly { readonly id: string; readonly names: Names }[];
  readonly races: readonly Race[];
  /** Special polling stations of the paper channel (the official's page shows its own). */
  readonly paperPrecincts: readonly {
    readonly id: string;
    readonly district: string;
    readonly address: string;
  }[];
  /** Verifies the results site's signed files (key-check.ts). */
  readonly snapshotKey: { readonly alg: string; readonly spki: string };
}

export function racesOf(manifest: Manifest, district: District): Race[] {
  return district.races.map((id) => manifest.races.find((r) => r.id === id)).filter((r) => r !== undefined);
}

/** The API's body limit (ingest/http/body.ts). */
const MAX_BODY = 8192;
/** A prepared message: 32-byte random prefix ‖ 32-byte message, base64url. */
const MESSAGE_CHARS = 86;

/**
 * Every ballot request of this election is padded to this many bytes
 * (DESIGN §4: size is a side channel): the largest body any district's
 * ballot can make (longest ids, `maxChoices` marks in every race, the widest
 * key), rounded up to 1 KiB, at most the 8 KiB limit. A pure function of the
 * manifest, so all voters of an election send the same size.
 */
export function paddedLength(manifest: Manifest): number {
  const widestKey = Math.max(...manifest.districts.map((d) => fromB64u(d.key.spki).length));
  const signature = 'x'.repeat(Math.ceil((widestKey * 4) / 3));
  let largest = 0;
  for (const district of manifest.districts) {
    const selections = racesOf(manifest, district).map((race) => ({
      race: race.id,
      choices: race.candidates
        .map((c) => c.id)
        .sort((a, b) => b.length - a.length)
        .slice(0, race.maxChoices),
    }));
    largest = Math.max(
      largest,
      ballotBody(manifest.id, district.id, 'x'.repeat(MESSAGE_CHARS), signature, selections, 0).length,
    );
  }
  return Math.min(MAX_BODY, Math.ceil(largest / 1024) * 1024);
}

/**
 * `POST /v1/ballots` body with a `pad` of spaces (the API's schema allows
 * `pad: "^ *$"` and ignores it) making it exactly `size` bytes. Ids are
 * ASCII, so characters are bytes.
 */
export function ballotBody(
  election: string,
  district: string,
  message: string,
  signature: string,
  selections: readonly Selection[],
  size: number,
): string {
  const bare = JSON.stringify({
    election,
    district,
    credential: { message, signature },
    selections,
    pad: '',
  });
  const pad = Math.max(0, size - bare.length);
  return `${bare.slice(0, -2)}${' '.repeat(pad)}"}`;
}
