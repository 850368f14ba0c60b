/**
 * Elections as data (DESIGN §8): the sample validates, and every kind of
 * broken config is rejected with the exact path and rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import {
  checkElectionConfig,
  type ElectionConfig,
  type ElectionError,
  indexElection,
  initialState,
  isElectionError,
  loadElection,
  phaseAt,
} from '../election/index.js';

type Mutable<V> = { -readonly [K in keyof V]: Mutable<V[K]> };
type Raw = Mutable<ElectionConfig> & Record<string, unknown>;

const sampleText = readFileSync(join(repoRoot, 'election', 'configs', 'sample.json'), 'utf8');
const fresh = (): Raw => JSON.parse(sampleText) as Raw;

// ISO 3166-2:KZ since the 2022 reform: 17 regions and 3 cities (Astana 71, Almaty 75, Shymkent 79).
const KZ_REGIONS = '10 11 15 19 23 27 31 33 35 39 43 47 55 59 61 62 63 71 75 79'
  .split(' ')
  .map((n) => `KZ-${n}`);

describe('the sample election', () => {
  const index = loadElection('sample');

  it('validates and is open now', () => {
    expect(index.id).toBe('kz-primary-2020');
    expect(phaseAt(initialState(index), Date.now())).toBe('open');
    expect(index.config.sampleRoll?.size).toBe(800_000);
  });

  it('has the 20 ISO 3166-2:KZ regions, one partition each', () => {
    expect(index.config.regions.map((r) => r.code).sort()).toEqual(KZ_REGIONS);
    expect(index.partitionCount).toBe(20);
    for (const r of index.config.regions) expect(index.partitionsFor(r.code)).toHaveLength(1);
  });

  it('has 2–4 districts per region, each with the national race and its own', () => {
    for (const r of index.config.regions) {
      const districts = index.districtsOf(r.code);
      expect(districts.length).toBeGreaterThanOrEqual(2);
      expect(districts.length).toBeLessThanOrEqual(4);
      for (const d of districts) expect(index.racesOf(d.id).map((race) => race.id)).toContain('R-NAT');
    }
  });

  it('has 5–12 candidates per race and Kazakh names in Kazakh letters', () => {
    for (const race of index.config.races) {
      expect(race.candidates.length).toBeGreaterThanOrEqual(5);
      expect(race.candidates.length).toBeLessThanOrEqual(12);
    }
    const kk = index.config.races.flatMap((r) => r.candidates.map((c) => c.names.kk)).join(' ');
    for (const letter of 'әғқңөұүһі') expect(kk).toContain(letter);
  });

  it('has paper precincts in every region', () => {
    const regions = new Set(index.config.paperPrecincts.map((p) => index.district(p.district)?.region));
    expect(regions.size).toBe(20);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(index.config.races[0]!.candidates[0])).toBe(true);
  });

  it('does not allow re-voting unless the config says so', () => {
    expect(index.revoting).toBe(false);
    expect(indexElection({ ...fresh(), revoting: true }).revoting).toBe(true);
  });
});

/** Each case breaks one rule; the error must name this path and this rule. */
const broken: [name: string, mutate: (c: Raw) => void, path: string, message: RegExp][] = [
  ['missing id', (c) => delete (c as Record<string, unknown>).id, 'id', /is required/],
  [
    'unknown property',
    (c) => ((c.races[1] as Record<string, unknown>).colour = 'red'),
    'races[1].colour',
    /not a known property/,
  ],
  ['bad region code', (c) => (c.regions[2]!.code = 'Almaty'), 'regions[2].code', /must match/],
  ['non-UTC time', (c) => (c.opens = '2020-01-01T00:00:00+05:00'), 'opens', /must match/],
  [
    'bad candidate status',
    (c) => ((c.races[0]!.candidates[1]!.status as string) = 'resting'),
    'races[0].candidates[1].status',
    /must be one of "active", "withdrawn", "removed"/,
  ],
  ['zero seats', (c) => (c.races[4]!.seats = 0), 'races[4].seats', /must be >= 1/],
  [
    'unknown race',
    (c) => (c.districts[3]!.races[1] = 'R-99'),
    'districts[3].races[1]',
    /^unknown race "R-99"$/,
  ],
  [
    'unknown region',
    (c) => (c.districts[5]!.region = 'KZ-99'),
    'districts[5].region',
    /unknown region "KZ-99"/,
  ],
  [
    'unknown district',
    (c) => (c.paperPrecincts[2]!.district = 'D-00-0'),
    'paperPrecincts[2].district',
    /unknown district "D-00-0"/,
  ],
  [
    'unknown party branch',
    (c) => (c.races[2]!.candidates[0]!.partyBranch = 'PB-00'),
    'races[2].candidates[0].partyBranch',
    /unknown party branch/,
  ],
  [
    'duplicate district id',
    (c) => (c.districts[1]!.id = c.districts[0]!.id),
    'districts[1].id',
    /duplicate district id "D-10-1" \(first at districts\[0\]\)/,
  ],
  [
    'duplicate region code',
    (c) => (c.regions[1]!.code = c.regions[0]!.code),
    'regions[1].code',
    /duplicate region code/,
  ],
  [
    'duplicate candidate id',
    (c) => (c.races[0]!.candidates[3]!.id = c.races[0]!.candidates[0]!.id),
    'races[0].candidates[3].id',
    /duplicate candidate id/,
  ],
  [
    'maxChoices above candidates',
    (c) => (c.races[0]!.maxChoices = 13),
    'races[0].maxChoices',
    /13 is more than the race's 12 candidates/,
  ],
  ['opens after closes', (c) => (c.opens = '2100-01-01T00:00:00Z'), 'closes', /must be after opens/],
  ['date that does not exist', (c) => (c.opens = '2021-02-30T00:00:00Z'), 'opens', /not a real date/],
  [
    'partition shared by regions',
    (c) => (c.regions[1]!.partitions = [0]),
    'regions[1].partitions[0]',
    /partition 0 is already used by regions\[0\]/,
  ],
  [
    'partitions with a gap',
    (c) => (c.regions[19]!.partitions = [20]),
    'regions',
    /contiguous 0\.\.20; missing 19/,
  ],
  ['revoting not a boolean', (c) => ((c as Record<string, unknown>).revoting = 'yes'), 'revoting', /boolean/],
  [
    'region without districts',
    (c) => (c.districts = c.districts.filter((d) => d.region !== 'KZ-62')),
    'regions[15]',
    /has no districts/,
  ],
];

describe('a broken config', () => {
  it.each(broken)('is rejected: %s', (_name, mutate, path, message) => {
    const config = fresh();
    mutate(config);
    const issues = checkElectionConfig(config);
    const hit = issues.find((i) => i.path === path);
    expect(hit, `issues were: ${JSON.stringify(issues)}`).toBeDefined();
    expect(hit!.message).toMatch(message);
  });

  it('throws a config_invalid ElectionError whose message lists path: message', () => {
    const config = fresh();
    config.districts[3]!.races[1] = 'R-99';
    let caught: unknown;
    try {
      indexElection(config, 'broken.json');
    } catch (err) {
      caught = err;
    }
    expect(isElectionError(caught, 'config_invalid')).toBe(true);
    expect((caught as ElectionError).message).toContain('districts[3].races[1]: unknown race "R-99"');
  });

  it('reports a missing file as config_not_found', () => {
    expect(() => loadElection('./no/such/election.json')).toThrow(
      expect.objectContaining({ code: 'config_not_found' }),
    );
  });

  it('does not freeze or change the object it was given', () => {
    const config = fresh();
    indexElection(config);
    expect(Object.isFrozen(config)).toBe(false);
  });
});
