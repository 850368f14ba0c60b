/**
 * The roll in Redis: one hash per region, field voterHash → district id.
 *
 *   roll:{KZ-75}:<election>          HASH  voterHash → district   (ingest HGETs it)
 *   roll-staging:{KZ-75}:<election>  HASH  the same, while loading
 *   roll-meta:{<election>}           STRING JSON {digest, count, districts…}
 *
 * Keys are hash-tagged by region (DESIGN §10) so that in Redis Cluster a
 * region's roll, its staging copy and its `voter:`/`cred:` keys share a slot.
 *
 * The marker always describes the roll ingest reads, since the publisher
 * takes turnout's denominator from it (publisher/roll-source.ts): rows go to
 * staging hashes while the previous roll and its marker keep serving, then
 * one MULTI RENAMEs every staging hash over its live one and writes the new
 * marker. A failed or crashed load leaves the previous roll and its marker
 * (and garbage staging hashes, cleared by the next load); the next `init`
 * sees the old digest and loads again.
 */
import { createHmac } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ElectionError } from './errors.js';
import type { ElectionIndex } from './load.js';

/** A standalone Redis or a Redis Cluster client: every command here is single-key. */
export type RollStore = Redis | Cluster;

export interface RollRow {
  readonly voterHash: string;
  readonly district: string;
}

export type RollSourceKind = 'sample' | 'csv';

export interface RollMeta {
  readonly v: 1;
  /** Identifies the roll's content and the pepper it was hashed with. */
  readonly digest: string;
  readonly source: RollSourceKind;
  readonly count: number;
  /** Members per district: the denominator of turnout (DESIGN §6). */
  readonly districts: Readonly<Record<string, number>>;
  readonly loadedAt: string;
}

export interface LoadRollOptions {
  /** Fields per HSET. @default 1000 */
  readonly batchSize?: number;
  /** HSETs sent and not yet answered before the loader waits (pipelining depth). @default 16 */
  readonly window?: number;
  /** Called as rows are acknowledged by Redis. */
  readonly onProgress?: (loaded: number) => void;
}

/** `roll:{<region>}:<election>`, the hash ingest reads. */
export function rollKey(electionId: string, region: string): string {
  return `roll:{${region}}:${electionId}`;
}

const stagingKey = (electionId: string, region: string): string => `roll-staging:{${region}}:${electionId}`;

/** `roll-meta:{<election>}`: replaced only together with the roll it describes. */
export function rollMetaKey(electionId: string): string {
  return `roll-meta:{${electionId}}`;
}

/**
 * The digest stored in the marker: the source's content digest bound to the
 * pepper, since new keys (a new pepper) change every voterHash. The pepper
 * enters through an HMAC so the marker reveals nothing about it.
 */
export function rollDigest(contentDigest: string, pepper: Buffer): string {
  return createHmac('sha256', pepper).update(`saylau roll digest\0${contentDigest}`).digest('hex');
}

/** The loaded roll's marker, or null if no complete load has happened. */
export async function readRollMeta(redis: RollStore, electionId: string): Promise<RollMeta | null> {
  const text = await redis.get(rollMetaKey(electionId));
  return text === null ? null : (JSON.parse(text) as RollMeta);
}

/** The district a voter is registered in, or null if not on the roll: one HGET. */
export async function lookupVoterDistrict(
  redis: RollStore,
  electionId: string,
  region: string,
  voterHash: string,
): Promise<string | null> {
  return redis.hget(rollKey(electionId, region), voterHash);
}

/**
 * Replaces the election's roll with `rows`: pipelined HSETs into staging
 * hashes, then one MULTI of the per-region RENAMEs and the new marker. Memory stays bounded by
 * `window × batchSize` rows whatever the roll size.
 * @throws ElectionError `roll_invalid` for a district not in the election or
 *   duplicate voters; `roll_store_failed` when Redis fails
 */
export async function loadRoll(
  redis: RollStore,
  index: ElectionIndex,
  rows: AsyncIterable<readonly RollRow[]>,
  meta: { readonly digest: string; readonly source: RollSourceKind },
  options: LoadRollOptions = {},
): Promise<RollMeta> {
  const batchSize = options.batchSize ?? 1000;
  const window = options.window ?? 16;
  const regions = index.config.regions.map((r) => r.code);
  const id = index.id;
  try {
    for (const region of regions) await redis.del(stagingKey(id, region));

    const buffers = new Map<string, string[]>(regions.map((r) => [r, []]));
    const perDistrict: Record<string, number> = Object.fromEntries(
      index.config.districts.map((d) => [d.id, 0]),
    );
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let sent = 0;
    let acknowledged = 0;

    const send = (region: string, fields: string[]): void => {
      const count = fields.length / 2;
      sent += count;
      const p: Promise<void> = redis.hset(stagingKey(id, region), ...fields).then(
        () => {
          acknowledged += count;
          options.onProgress?.(acknowledged);
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };

    for await (const batch of rows) {
      for (const row of batch) {
        const region = index.district(row.district)?.region;
        if (region === undefined) {
          throw new ElectionError('roll_invalid', `roll row has unknown district "${row.district}"`);
        }
        perDistrict[row.district]!++;
        const buffer = buffers.get(region)!;
        buffer.push(row.voterHash, row.district);
        if (buffer.length >= batchSize * 2) {
          send(region, buffer.splice(0));
        }
      }
      // Backpressure: hold the producer while too many HSETs are unanswered.
      while (inFlight.size > window) await Promise.race(inFlight);
      if (failure !== null) throw failure;
    }
    for (const [region, buffer] of buffers) if (buffer.length > 0) send(region, buffer.splice(0));
    await Promise.all(inFlight);
    if (failure !== null) throw failure;

    // A hash silently merges repeated fields: compare sizes so a duplicate can never shrink the roll unnoticed.
    let stored = 0;
    for (const region of regions) stored += await redis.hlen(stagingKey(id, region));
    if (stored !== sent) {
      throw new ElectionError(
        'roll_invalid',
        `roll has ${sent - stored} duplicate voters (${sent} rows, ${stored} distinct)`,
      );
    }
    const result: RollMeta = {
      v: 1,
      digest: meta.digest,
      source: meta.source,
      count: sent,
      districts: perDistrict,
      loadedAt: new Date().toISOString(),
    };
    const swap: [string, ...string[]][] = [];
    for (const region of regions) {
      const staged = (await redis.exists(stagingKey(id, region))) === 1;
      swap.push(
        staged ? ['rename', stagingKey(id, region), rollKey(id, region)] : ['del', rollKey(id, region)],
      );
    }
    swap.push(['set', rollMetaKey(id), JSON.stringify(result)]);
    await swapIn(redis, swap);
    return result;
  } catch (err) {
    // Staging hashes of a failed load are garbage; the live roll was never touched. Cleanup is best
    // effort (Redis may be what failed) and the original error is the one reported.
    await Promise.allSettled(regions.map((region) => redis.del(stagingKey(id, region))));
    if (err instanceof ElectionError) throw err;
    throw new ElectionError('roll_store_failed', `loading the roll of "${id}" into Redis failed`, {
      cause: err,
    });
  }
}

/**
 * Runs the swap as one MULTI, so no reader ever sees the new roll with the
 * old marker or the reverse. Redis Cluster has no transaction across slots
 * (the regions' keys and the marker lie in different ones): there the
 * commands run in order, the marker right after the last RENAME.
 */
async function swapIn(redis: RollStore, commands: readonly [string, ...string[]][]): Promise<void> {
  if (redis.isCluster) {
    for (const [command, ...args] of commands) await redis.call(command, ...args);
    return;
  }
  const replies = await redis.multi(commands.map((c) => [...c])).exec();
  if (replies === null) throw new Error('the roll swap transaction was discarded');
  const failed = replies.find(([err]) => err !== null);
  if (failed !== undefined) throw failed[0];
}

/** Removes an election's roll and marker (tests, re-runs). */
export async function dropRoll(redis: RollStore, index: ElectionIndex): Promise<void> {
  await redis.del(rollMetaKey(index.id));
  for (const r of index.config.regions) {
    await redis.del(rollKey(index.id, r.code));
    await redis.del(stagingKey(index.id, r.code));
  }
}
