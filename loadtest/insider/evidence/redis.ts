/**
 * Redis as an insider with the password sees it: every key and value, each
 * key's idle time (`OBJECT IDLETIME`, read before any value so the reading
 * does not reset it: Redis keeps the last access of every key to the
 * second unless an LFU policy replaces that clock), and every file under
 * the Redis directory (persistence, config).
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../../../common/config.js';
import { type Unit, unit } from './unit.js';

export interface RedisEvidence {
  readonly units: Unit[];
  /** key → epoch ms of its last access (read time − idle time), for keys with an idle clock. */
  readonly lastAccess: Map<string, number>;
  readonly keys: number;
  /** False when the server keeps no idle clock (an LFU policy). */
  readonly idleClock: boolean;
}

export async function readRedis(config: Config, redisDir: string): Promise<RedisEvidence> {
  const redis = new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: true });
  redis.on('error', () => undefined); // surfaced by the command that fails
  await redis.connect();
  const units: Unit[] = [];
  const lastAccess = new Map<string, number>();
  let idleClock = true;
  const keys: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    for (let i = 0; i < keys.length && idleClock; i += 500) {
      const slice = keys.slice(i, i + 500);
      const readAt = Date.now();
      const pipe = redis.pipeline();
      for (const k of slice) pipe.object('IDLETIME', k);
      const answers = (await pipe.exec()) ?? [];
      answers.forEach(([err, idle], j) => {
        if (err !== null) idleClock = false;
        else if (typeof idle === 'number') lastAccess.set(slice[j]!, readAt - idle * 1000);
      });
    }
    for (const key of keys) {
      const type = await redis.type(key);
      const at = lastAccess.get(key);
      const times = at === undefined ? [] : [at];
      if (type === 'string') units.push(unit('redis', key, `${key} ${await redis.get(key)}`, { times }));
      else if (type === 'hash') {
        const all = await redis.hgetall(key);
        for (const [f, v] of Object.entries(all))
          units.push(unit('redis', `${key}#${f}`, `${key} ${f} ${v}`, { times }));
      } else if (type === 'set') {
        for (const m of await redis.smembers(key)) units.push(unit('redis', key, `${key} ${m}`, { times }));
      } else if (type === 'list') {
        const items = await redis.lrange(key, 0, -1);
        items.forEach((m, j) => {
          units.push(unit('redis', `${key}[${j}]`, `${key} ${m}`, { times }));
        });
      } else if (type === 'zset') {
        const items = await redis.zrange(key, 0, -1, 'WITHSCORES');
        units.push(unit('redis', key, `${key} ${items.join(' ')}`, { times }));
      } else units.push(unit('redis', key, `${key} (${type})`, { times }));
    }
  } finally {
    redis.disconnect();
  }
  for (const u of await fileUnits('redis-files', redisDir)) units.push(u);
  return { units, lastAccess, keys: keys.length, idleClock };
}

/** Every file under `dir` (recursively), one unit per line; binary files as one latin1 unit. */
export async function fileUnits(source: string, dir: string): Promise<Unit[]> {
  const out: Unit[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const bytes = await readTail(path);
    if (bytes === null) continue;
    if (bytes.includes(0)) {
      out.push(unit(source, path, bytes.toString('latin1')));
      continue;
    }
    bytes
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line !== '') out.push(unit(source, `${path}:${i + 1}`, line));
      });
  }
  return out;
}

/** A service log can outgrow memory over many runs; the run's own lines are at its end. */
const MAX_FILE_BYTES = 64 << 20;

async function readTail(path: string): Promise<Buffer | null> {
  const file = await open(path, 'r').catch(() => null);
  if (file === null) return null;
  try {
    const { size } = await file.stat();
    const length = Math.min(size, MAX_FILE_BYTES);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return buffer;
  } finally {
    await file.close();
  }
}
