/**
 * The roll in the real Redis (127.0.0.1, REDIS_PORT): loaded in pipelined
 * batches into one hash per region, looked up with single HGETs, reloaded
 * only when the roll changes, and replaced whole by a CSV import.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../common/config.js';
import {
  dropRoll,
  type ElectionKeys,
  ensureRoll,
  indexElection,
  initElection,
  listSampleMembers,
  loadElection,
  loadRoll,
  lookupVoterDistrict,
  manifestPath,
  readKeys,
  readRollMeta,
  rollKey,
  sampleRollCounts,
  voterHash,
} from '../election/index.js';
import { rollSourceFor } from '../publisher/roll-source.js';

// Distinct per run so parallel engineers and repeated runs never share keys.
const index = indexElection({ ...loadElection('tiny').config, id: `test-election-redis-${process.pid}` });
let stackDir: string;
let settings: Config;
let redis: Redis;
let keys: ElectionKeys;

beforeAll(async () => {
  stackDir = await mkdtemp(join(tmpdir(), 'saylau-roll-'));
  settings = loadConfig(process.env, { STACK_DIR: stackDir, PUBLIC_DIR: join(stackDir, 'public') });
  redis = new Redis({ host: settings.redis.host, port: settings.redis.port, lazyConnect: true });
  await redis.connect();
}, 30_000);

afterAll(async () => {
  await dropRoll(redis, index);
  await redis.quit();
  await rm(stackDir, { recursive: true, force: true });
});

describe('the roll in Redis', () => {
  it('init makes keys, writes the manifest and loads the sample roll', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const result = await initElection(settings, index, redis, { log: (l) => lines.push(l) });
    expect(result.roll.action).toBe('loaded');
    expect(result.keysCreated).toBe(9); // tiny.json: 3 districts, 2 station keys, 2 Ed25519, operator OP-1's key, pepper
    expect(JSON.parse(await readFile(manifestPath(settings.publisher.publicDir, index.id), 'utf8')).id).toBe(
      index.id,
    );
    keys = await readKeys(stackDir, index.id);

    const meta = await readRollMeta(redis, index.id);
    expect(meta).toMatchObject({ count: 5000, source: 'sample' });
    expect(meta!.districts).toEqual(Object.fromEntries(sampleRollCounts(index)));
    expect(await redis.hlen(rollKey(index.id, 'KZ-71'))).toBe(meta!.districts['D-71-1']);
    expect(lines.some((l) => l.startsWith('roll: loaded 5000'))).toBe(true);
  });

  it('answers eligibility with one HGET on the region hash', async () => {
    for (const m of listSampleMembers(index, 100, 50)) {
      const region = index.district(m.district)!.region;
      expect(await lookupVoterDistrict(redis, index.id, region, voterHash(keys.pepper, m.memberId))).toBe(
        m.district,
      );
      const key = `roll:{${region}}:${index.id}`;
      expect(await redis.hget(key, voterHash(keys.pepper, m.memberId))).toBe(m.district);
    }
    expect(
      await lookupVoterDistrict(redis, index.id, 'KZ-71', voterHash(keys.pepper, 'not-a-member')),
    ).toBeNull();
  });

  it('skips loading when the same roll is already there', async () => {
    const before = await readRollMeta(redis, index.id);
    const again = await ensureRoll(redis, index, keys);
    expect(again.action).toBe('kept');
    expect(await readRollMeta(redis, index.id)).toEqual(before);
    expect((await ensureRoll(redis, index, keys, { force: true })).action).toBe('loaded');
  });

  it('replaces the whole roll with a CSV import', async () => {
    const csv = join(stackDir, 'roll.csv');
    await writeFile(
      csv,
      'member_id,district\n870101300001,D-71-1\n870101300002,D-75-2\n870101300003,D-75-2\n',
    );
    const result = await ensureRoll(redis, index, keys, { csv });
    expect(result).toMatchObject({ action: 'loaded', meta: { count: 3, source: 'csv' } });
    expect(await redis.hlen(rollKey(index.id, 'KZ-75'))).toBe(2);
    expect(await lookupVoterDistrict(redis, index.id, 'KZ-75', voterHash(keys.pepper, '870101300003'))).toBe(
      'D-75-2',
    );
    // The publisher's turnout denominator for an imported roll: per district from the marker (one
    // GET), regions the sums of their districts: what HLEN of each region's hash says.
    const imported = publisherRoll();
    const counts: Record<string, number> = { 'D-71-1': 1, 'D-75-2': 2 };
    expect(await imported.rollByDistrict(index.id)).toEqual(
      new Map(index.config.districts.map((d) => [d.id, counts[d.id] ?? 0])),
    );
    for (const [region, n] of await imported.rollByRegion(index.id))
      expect(n, region).toBe(await redis.hlen(rollKey(index.id, region)));
    const old = listSampleMembers(index, 0, 1)[0]!;
    const oldRegion = index.district(old.district)!.region;
    expect(
      await lookupVoterDistrict(redis, index.id, oldRegion, voterHash(keys.pepper, old.memberId)),
    ).toBeNull();
  });

  it('leaves the loaded roll alone when a CSV is bad', async () => {
    const before = await readRollMeta(redis, index.id);
    const csv = join(stackDir, 'bad.csv');
    await writeFile(csv, 'member_id,district\n870101300009,D-71-1\n870101300010,nowhere\n');
    await expect(ensureRoll(redis, index, keys, { csv })).rejects.toMatchObject({ code: 'roll_invalid' });
    expect(await readRollMeta(redis, index.id)).toEqual(before);
  });

  it('refuses rows that would collapse into one hash field, keeping the previous roll published', async () => {
    const before = await readRollMeta(redis, index.id);
    const counts = await publisherRoll().rollByDistrict(index.id);
    const rows = async function* () {
      yield [
        { voterHash: 'a'.repeat(64), district: 'D-71-1' },
        { voterHash: 'a'.repeat(64), district: 'D-71-1' },
      ];
    };
    // Read while the re-import runs: the GET follows the staging HSETs on the connection.
    let during: Promise<ReadonlyMap<string, number>> | undefined;
    const load = loadRoll(
      redis,
      index,
      rows(),
      { digest: 'x', source: 'csv' },
      {
        batchSize: 1,
        onProgress: () => {
          during ??= publisherRoll().rollByDistrict(index.id);
        },
      },
    );
    await expect(load).rejects.toMatchObject({ code: 'roll_invalid' });
    // Ingest still serves the previous roll, so the publisher keeps its per-district counts, during
    // the re-import and after it failed.
    expect(await during).toEqual(counts);
    expect(await readRollMeta(redis, index.id)).toEqual(before);
    expect(await publisherRoll().rollByDistrict(index.id)).toEqual(counts);
    expect(await redis.hlen(rollKey(index.id, 'KZ-75'))).toBe(2);
    // No roll at all: the publisher publishes no turnout against a wrong denominator.
    await dropRoll(redis, index);
    await expect(publisherRoll().rollByDistrict(index.id)).rejects.toMatchObject({
      code: 'source_unavailable',
    });
  });
});

/** The publisher's roll source for this election as if its roll were imported (no sample roll). */
function publisherRoll() {
  const { sampleRoll: _sample, ...config } = index.config;
  return rollSourceFor(indexElection(config), () => redis);
}
