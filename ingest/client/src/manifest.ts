/**
 * The election as the page reads it (election/manifest.ts): the summary
 * (`GET /v1/elections/{id}/summary`) before sign-in, then the voter's
 * district slice (`GET /v1/elections/{id}/districts/{district}`), checked
 * against the summary's digest (slice.ts). The full manifest
 * (`GET /v1/elections/{id}`) is for the official's page and API clients.
 */

/** A name in each of the client's languages. */
export type Names = Readonly<Record<'kk' | 'ru' | 'en', string>>;

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

/** What the page needs before sign-in: no races, candidates or keys. */
export interface ElectionSummary {
  readonly id: string;
  readonly names: Names;
  readonly opens: string;
  readonly closes: string;
  readonly snapshotIntervalSec: number;
  /** Organiser, help contact and privacy note, when the election config has them. */
  readonly about?: {
    readonly organiser: Names;
    readonly help: {
      readonly names: Names;
      readonly phone?: string;
      readonly email?: string;
      readonly url?: string;
    };
    readonly privacy: Names;
  };
  readonly regions: readonly { readonly code: string; readonly names: Names }[];
  readonly districts: readonly {
    readonly id: string;
    readonly region: string;
    readonly names: Names;
    /** Hex SHA-256 of the district's slice as served. */
    readonly digest: string;
  }[];
  /** Every `POST /v1/ballots` body is padded to this many bytes (election/ballot-size.ts). */
  readonly ballotBytes: number;
  /** Verifies the results site's signed files (key-check.ts). */
  readonly snapshotKey: { readonly alg: string; readonly spki: string };
  /** Hex SHA-256 of the full manifest as served. */
  readonly manifestDigest: string;
}

/** One district's part of the manifest: its entry (with its key), its races, their party branches. */
export interface DistrictSlice {
  readonly election: string;
  readonly district: District;
  readonly races: readonly Race[];
  readonly partyBranches: readonly { readonly id: string; readonly names: Names }[];
}
