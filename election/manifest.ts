/**
 * The election manifest: the public description of an election that voter
 * clients, the results site and auditors read (ingest serves it as
 * `GET /v1/elections/{id}`; `init` writes it to `<publicDir>/elections/<id>.json`).
 *
 * It carries every district's blind-signature public key and the snapshot
 * verification key, and nothing private: no partitions, no roll, no identity
 * issuer key (clients never verify identity tokens). It is a pure function of
 * config and public keys — no timestamps — so rebuilding it gives identical
 * bytes, whichever role's key set (tools, ingest, publisher) builds it.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ballotBytes } from './ballot-size.js';
import type { About, CandidateStatus, Names } from './config-schema.js';
import { ElectionError } from './errors.js';
import { BLIND_RSA_ALG, type ManifestKeys, missingDistrictKeys } from './keys.js';
import type { ElectionIndex } from './load.js';

export const MANIFEST_VERSION = 1;

export interface Manifest {
  readonly v: typeof MANIFEST_VERSION;
  readonly id: string;
  readonly names: Names;
  readonly opens: string;
  readonly closes: string;
  readonly snapshotIntervalSec: number;
  /** Organiser, help contact and privacy note (config `about`), when the config has them. */
  readonly about?: About;
  readonly regions: readonly {
    readonly code: string;
    readonly names: Names;
    readonly districts: readonly string[];
  }[];
  readonly districts: readonly {
    readonly id: string;
    readonly region: string;
    readonly names: Names;
    readonly races: readonly string[];
    readonly key: { readonly alg: typeof BLIND_RSA_ALG; readonly spki: string };
  }[];
  readonly partyBranches: readonly { readonly id: string; readonly names: Names }[];
  readonly races: readonly {
    readonly id: string;
    readonly names: Names;
    readonly seats: number;
    readonly maxChoices: number;
    readonly candidates: readonly {
      readonly id: string;
      readonly names: Names;
      /** `partyBranches[].id` */
      readonly partyBranch: string;
      readonly status: CandidateStatus;
    }[];
  }[];
  readonly paperPrecincts: readonly {
    readonly id: string;
    readonly district: string;
    readonly address: string;
  }[];
  /** Verifies published result snapshots (DESIGN §6). */
  readonly snapshotKey: { readonly alg: 'Ed25519'; readonly spki: string };
}

/**
 * Builds the manifest.
 * @throws ElectionError `keys_missing` if a district of the config has no key
 */
export function buildManifest(index: ElectionIndex, keys: ManifestKeys): Manifest {
  const missing = missingDistrictKeys(index, keys);
  if (missing.length > 0) {
    throw new ElectionError(
      'keys_missing',
      `no key for districts ${missing.join(', ')} of "${index.id}"; run: npm run election -- keys ${index.id}`,
    );
  }
  const c = index.config;
  return {
    v: MANIFEST_VERSION,
    id: c.id,
    names: c.names,
    opens: c.opens,
    closes: c.closes,
    snapshotIntervalSec: c.snapshotIntervalSec,
    ...(c.about === undefined ? {} : { about: c.about }),
    regions: c.regions.map((r) => ({
      code: r.code,
      names: r.names,
      districts: index.districtsOf(r.code).map((d) => d.id),
    })),
    districts: c.districts.map((d) => ({
      id: d.id,
      region: d.region,
      names: d.names,
      races: d.races,
      key: { alg: BLIND_RSA_ALG, spki: keys.districts.get(d.id)!.spki },
    })),
    partyBranches: c.partyBranches.map((b) => ({ id: b.id, names: b.names })),
    races: c.races.map((r) => ({
      id: r.id,
      names: r.names,
      seats: r.seats,
      maxChoices: r.maxChoices,
      candidates: r.candidates.map((k) => ({
        id: k.id,
        names: k.names,
        partyBranch: k.partyBranch,
        status: k.status,
      })),
    })),
    paperPrecincts: c.paperPrecincts.map((p) => ({ id: p.id, district: p.district, address: p.address })),
    snapshotKey: { alg: 'Ed25519', spki: keys.snapshot.spki },
  };
}

type ManifestDistrict = Manifest['districts'][number];

/**
 * What the voter page reads before sign-in (`GET /v1/elections/{id}/summary`):
 * the manifest without races, candidates, keys and paper precincts, plus the
 * SHA-256 of each district's slice and of the full manifest as served, so the
 * page can check the one slice it fetches once the voter's district is known.
 */
export interface ElectionSummary {
  readonly v: typeof MANIFEST_VERSION;
  readonly id: string;
  readonly names: Names;
  readonly opens: string;
  readonly closes: string;
  readonly snapshotIntervalSec: number;
  readonly about?: About;
  readonly regions: readonly { readonly code: string; readonly names: Names }[];
  readonly districts: readonly {
    readonly id: string;
    readonly region: string;
    readonly names: Names;
    /** Hex SHA-256 of this district's slice, byte for byte as served. */
    readonly digest: string;
  }[];
  /** The fixed `POST /v1/ballots` body size (election/ballot-size.ts). */
  readonly ballotBytes: number;
  readonly snapshotKey: Manifest['snapshotKey'];
  /** Hex SHA-256 of the full manifest, byte for byte as served. */
  readonly manifestDigest: string;
}

/**
 * One district's part of the manifest (`GET /v1/elections/{id}/districts/{district}`):
 * its entry (with its key), its races in the entry's order, and the party
 * branches their candidates stand for, in manifest order.
 */
export interface DistrictSlice {
  readonly v: typeof MANIFEST_VERSION;
  readonly election: string;
  readonly district: ManifestDistrict;
  readonly races: Manifest['races'];
  readonly partyBranches: Manifest['partyBranches'];
}

/** The manifest's slice for `districtId`; undefined for a district it does not have. */
export function sliceOf(manifest: Manifest, districtId: string): DistrictSlice | undefined {
  const district = manifest.districts.find((d) => d.id === districtId);
  if (district === undefined) return undefined;
  const races = district.races.flatMap((id) => manifest.races.filter((r) => r.id === id));
  const used = new Set(races.flatMap((r) => r.candidates.map((c) => c.partyBranch)));
  return {
    v: MANIFEST_VERSION,
    election: manifest.id,
    district,
    races,
    partyBranches: manifest.partyBranches.filter((b) => used.has(b.id)),
  };
}

/** The summary, given the digests of the served bytes (see {@link servedManifest}). */
export function summaryOf(
  manifest: Manifest,
  digests: { readonly manifest: string; readonly districts: ReadonlyMap<string, string> },
): ElectionSummary {
  return {
    v: MANIFEST_VERSION,
    id: manifest.id,
    names: manifest.names,
    opens: manifest.opens,
    closes: manifest.closes,
    snapshotIntervalSec: manifest.snapshotIntervalSec,
    ...(manifest.about === undefined ? {} : { about: manifest.about }),
    regions: manifest.regions.map((r) => ({ code: r.code, names: r.names })),
    districts: manifest.districts.map((d) => ({
      id: d.id,
      region: d.region,
      names: d.names,
      digest: digests.districts.get(d.id)!,
    })),
    ballotBytes: ballotBytes(manifest),
    snapshotKey: manifest.snapshotKey,
    manifestDigest: digests.manifest,
  };
}

/** The bytes ingest serves, each serialised once: what the summary's digests are of. */
export interface ServedManifest {
  readonly manifest: Buffer;
  readonly summary: Buffer;
  /** By district id. */
  readonly slices: ReadonlyMap<string, Buffer>;
}

const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const serialise = (value: object): Buffer => Buffer.from(JSON.stringify(value));

/** Serialises the manifest, every district's slice, and the summary holding their digests. */
export function servedManifest(manifest: Manifest): ServedManifest {
  const full = serialise(manifest);
  const slices = new Map(manifest.districts.map((d) => [d.id, serialise(sliceOf(manifest, d.id)!)]));
  const districts = new Map([...slices].map(([id, bytes]) => [id, sha256Hex(bytes)]));
  const summary = serialise(summaryOf(manifest, { manifest: sha256Hex(full), districts }));
  return { manifest: full, summary, slices };
}

export const manifestPath = (publicDir: string, electionId: string): string =>
  join(publicDir, 'elections', `${electionId}.json`);

/** Writes the manifest atomically (temp file + rename), so readers never see half a file. */
export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, path);
}
