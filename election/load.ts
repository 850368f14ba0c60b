/**
 * Loads an election config and indexes it for the hot path: every lookup
 * ingest makes per request (district → races, region → partitions) is a Map
 * read computed once here (STYLE §6).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { repoRoot } from '../common/paths.js';
import { DEFAULT_CAST_BUCKET_SEC } from '../common/records.js';
import type { District, ElectionConfig, Race, Region } from './config-schema.js';
import { ElectionError } from './errors.js';
import { validateElectionConfig } from './validate.js';

/** Where named configs live: `loadElection('sample')` reads `election/configs/sample.json`. */
export const CONFIGS_DIR = join(repoRoot, 'election', 'configs');

export interface ElectionIndex {
  /** The validated file, typed and deeply frozen. */
  readonly config: ElectionConfig;
  readonly id: string;
  /** The file it came from, or `(inline)`. */
  readonly source: string;
  /** `opens` and `closes` as Unix milliseconds. */
  readonly opensAt: number;
  readonly closesAt: number;
  /** Topic partition count: one more than the highest partition of any region. */
  readonly partitionCount: number;
  /** A ballot's time bucket, seconds: the config's `castBucketSec` or the default. */
  readonly castBucketSec: number;
  /** The config's `revoting` (default false): a credential may cast again, its highest `rev` counts. */
  readonly revoting: boolean;
  region(code: string): Region | undefined;
  district(id: string): District | undefined;
  race(id: string): Race | undefined;
  /** The races a district's ballot may carry; empty for an unknown district. */
  racesOf(districtId: string): readonly Race[];
  /** The districts of a region, in file order; empty for an unknown region. */
  districtsOf(region: string): readonly District[];
  /** The region's Kafka partitions (DESIGN §4); empty for an unknown region. */
  partitionsFor(region: string): readonly number[];
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * Resolves a config name or path: a bare name (`sample`, no slash, no
 * `.json`) is a file in `election/configs/`; anything else is a path,
 * relative to the repository root like every other path in the settings.
 */
export function resolveElectionPath(nameOrPath: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(nameOrPath)) return join(CONFIGS_DIR, `${nameOrPath}.json`);
  return isAbsolute(nameOrPath) ? nameOrPath : resolve(repoRoot, nameOrPath);
}

/**
 * Reads, validates and indexes an election config. Synchronous on purpose:
 * it runs once at start-up, before anything else can happen.
 * @throws ElectionError `config_not_found` or `config_invalid` (with `path: message` issues)
 */
export function loadElection(nameOrPath: string): ElectionIndex {
  const path = resolveElectionPath(nameOrPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ElectionError('config_not_found', `cannot read election config ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ElectionError('config_invalid', `${path} is not JSON: ${(cause as Error).message}`, { cause });
  }
  return indexElection(raw, path);
}

/** Validates and indexes a config already in memory (tests, tools). */
export function indexElection(raw: unknown, source = '(inline)'): ElectionIndex {
  // Validate a private copy, so freezing it can never surprise the caller's object.
  const config = deepFreeze(validateElectionConfig(structuredClone(raw), source));
  return new IndexedElection(config, source);
}

class IndexedElection implements ElectionIndex {
  readonly config: ElectionConfig;
  readonly id: string;
  readonly source: string;
  readonly opensAt: number;
  readonly closesAt: number;
  readonly partitionCount: number;
  readonly castBucketSec: number;
  /** The config's `revoting` (default false): a credential may cast again, its highest `rev` counts. */
  readonly revoting: boolean;
  readonly #regions = new Map<string, Region>();
  readonly #districts = new Map<string, District>();
  readonly #races = new Map<string, Race>();
  readonly #racesOf = new Map<string, readonly Race[]>();
  readonly #districtsOf = new Map<string, readonly District[]>();

  constructor(config: ElectionConfig, source: string) {
    this.config = config;
    this.id = config.id;
    this.source = source;
    this.opensAt = Date.parse(config.opens);
    this.closesAt = Date.parse(config.closes);
    this.castBucketSec = config.castBucketSec ?? DEFAULT_CAST_BUCKET_SEC;
    this.revoting = config.revoting ?? false;
    let max = -1;
    for (const r of config.regions) {
      this.#regions.set(r.code, r);
      for (const p of r.partitions) max = Math.max(max, p);
    }
    this.partitionCount = max + 1;
    for (const race of config.races) this.#races.set(race.id, race);
    const byRegion = new Map<string, District[]>();
    for (const d of config.districts) {
      this.#districts.set(d.id, d);
      // Validation guarantees every race id resolves.
      this.#racesOf.set(d.id, Object.freeze(d.races.map((id) => this.#races.get(id)!)));
      const list = byRegion.get(d.region) ?? [];
      list.push(d);
      byRegion.set(d.region, list);
    }
    for (const [code, list] of byRegion) this.#districtsOf.set(code, Object.freeze(list));
    Object.freeze(this);
  }

  region(code: string): Region | undefined {
    return this.#regions.get(code);
  }
  district(id: string): District | undefined {
    return this.#districts.get(id);
  }
  race(id: string): Race | undefined {
    return this.#races.get(id);
  }
  racesOf(districtId: string): readonly Race[] {
    return this.#racesOf.get(districtId) ?? NONE;
  }
  districtsOf(region: string): readonly District[] {
    return this.#districtsOf.get(region) ?? NONE;
  }
  partitionsFor(region: string): readonly number[] {
    return this.#regions.get(region)?.partitions ?? NONE;
  }
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
