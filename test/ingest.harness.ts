/**
 * Shared by the ingest test files: a private election (own id, own keys, a
 * small sample roll), real ingest processes spawned with env overrides, an
 * RFC 9474 client (@cloudflare/blindrsa-ts) and Kafka offset helpers.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Config } from '../common/config.js';
import { repoRoot } from '../common/paths.js';
import { type ElectionIndex, loadElection } from '../election/index.js';

const run = promisify(execFile);

/** Parsed JSON from the wire: tests assert on its shape. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not types
export type Wire = any;
export const outputDir = join(repoRoot, 'test-output', 'ingest');

/**
 * Writes `test-output/ingest/<id>.json`: the sample election with its own id,
 * open now, and a small roll (and whatever `edit` changes, e.g. a precinct's
 * window); then `election init` makes keys and loads the roll.
 */
export async function prepareElection(
  id: string,
  rollSize = 5_000,
  edit: (config: Wire) => Wire = (config) => config,
): Promise<{ path: string; index: ElectionIndex }> {
  mkdirSync(outputDir, { recursive: true });
  const sample = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'sample.json'), 'utf8'));
  const config = edit({
    ...sample,
    id,
    opens: '2020-01-01T00:00:00Z',
    closes: '2099-12-31T23:59:59Z',
    sampleRoll: { seed: id, size: rollSize },
  });
  const path = join(outputDir, `${id}.json`);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  await initElection(path);
  return { path, index: loadElection(path) };
}

/**
 * Removes a test election's Redis keys and key store after its run (Kafka and
 * ClickHouse keep its records, as for every election). Test elections take a
 * fresh id per run: Redis is rebuilt from the log, so an old id's voters
 * would come back as already issued after any data loss.
 */
export async function forgetElection(config: Config, id: string): Promise<void> {
  const redis = new Redis({ host: config.redis.host, port: config.redis.port });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${id}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  rmSync(join(config.stackDir, 'keys', id), { recursive: true, force: true });
}

/** The direct children of `pid` (an ingest supervisor's workers). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** `npm run election -- init <path>`: keys, manifest, roll (what `npm start` runs on every start). */
export async function initElection(path: string): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', 'election/cli.ts', 'init', path], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

export interface Ingest {
  readonly base: string;
  /** The operations port's base URL (`/healthz`, `/readyz`, `/metrics`). */
  readonly ops: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** The operations port a test ingest on `port` gets (INGEST_OPS_PORT's default too). */
export const opsPortOf = (port: number): number => port + 1000;

/** Spawns `node --import tsx ingest/<entry>` and waits for `/readyz` on its operations port. */
export async function startIngest(options: {
  entry?: 'main.ts' | 'server.ts';
  election: string;
  port: number;
  processes?: number;
  env?: Record<string, string>;
  /** How long to wait for `/readyz` (a busy box starts workers slowly). @default 60 s */
  readyTimeoutMs?: number;
}): Promise<Ingest> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('ingest', options.entry ?? 'main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ELECTION: options.election,
      INGEST_PORT: String(options.port),
      INGEST_OPS_PORT: String(opsPortOf(options.port)),
      INGEST_PROCESSES: String(options.processes ?? 1),
      DEV_LOGIN: '1',
      LOG_LEVEL: 'warn',
      PUBLIC_DIR: join(outputDir, 'public'),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${options.port}`;
  const ops = `http://127.0.0.1:${opsPortOf(options.port)}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ingest exited during start:\n${output}`);
    try {
      const res = await fetch(`${ops}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ingest not ready in ${readyTimeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    ops,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface ApiResponse<B = Wire> {
  readonly status: number;
  readonly body: B;
  readonly headers: Headers;
  readonly bytes: number;
}

export async function api<B = Wire>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<B>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON (metrics)
  }
  return { status: res.status, body: parsed as B, headers: res.headers, bytes: Buffer.byteLength(text) };
}

/** The voter side of RFC 9474 for one district key from the manifest. */
export class VoterClient {
  private readonly suite = RSABSSA.SHA384.PSS.Randomized();

  constructor(
    readonly base: string,
    readonly election: string,
  ) {}

  async login(memberId: string): Promise<string> {
    const res = await api(this.base, 'POST', '/v1/dev/login', { election: this.election, memberId });
    if (res.status !== 200) throw new Error(`login ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token;
  }

  async districtKey(district: string): Promise<webcrypto.CryptoKey> {
    const manifest = (await api(this.base, 'GET', `/v1/elections/${this.election}`)).body;
    const entry = manifest.districts.find((d: { id: string }) => d.id === district);
    const spki = Buffer.from(entry.key.spki, 'base64url');
    return webcrypto.subtle.importKey('spki', spki, { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']);
  }

  /** Blinds a fresh message; returns what the credential request needs and what finalize needs. */
  async blind(
    key: webcrypto.CryptoKey,
  ): Promise<{ prepared: Uint8Array; blindedMsg: Uint8Array; inv: Uint8Array }> {
    const prepared = this.suite.prepare(webcrypto.getRandomValues(new Uint8Array(32)));
    const { blindedMsg, inv } = await this.suite.blind(key, prepared);
    return { prepared, blindedMsg, inv };
  }

  async finalize(
    key: webcrypto.CryptoKey,
    prepared: Uint8Array,
    blindSig: Uint8Array,
    inv: Uint8Array,
  ): Promise<Uint8Array> {
    return this.suite.finalize(key, prepared, blindSig, inv);
  }

  /** Login → blind → POST /v1/credentials → finalize: a ready credential. */
  async credential(
    memberId: string,
    district: string,
  ): Promise<{ message: string; signature: string; district: string }> {
    const token = await this.login(memberId);
    const key = await this.districtKey(district);
    const { prepared, blindedMsg, inv } = await this.blind(key);
    const res = await api(
      this.base,
      'POST',
      '/v1/credentials',
      { election: this.election, blindedMessage: Buffer.from(blindedMsg).toString('base64url') },
      { authorization: `Bearer ${token}` },
    );
    if (res.status !== 200) throw new Error(`credential ${res.status} ${JSON.stringify(res.body)}`);
    const sig = await this.finalize(key, prepared, Buffer.from(res.body.blindSignature, 'base64url'), inv);
    return {
      message: Buffer.from(prepared).toString('base64url'),
      signature: Buffer.from(sig).toString('base64url'),
      district: res.body.district,
    };
  }
}

/** A valid set of selections for a district: the first active candidate of each race. */
export function validSelections(
  index: ElectionIndex,
  district: string,
  pick = 0,
): { race: string; choices: string[] }[] {
  return index.racesOf(district).map((race) => {
    const active = race.candidates.filter((c) => c.status === 'active');
    return { race: race.id, choices: [active[pick % active.length]!.id] };
  });
}

/** Topic end offsets, retried while partition leadership settles after a broker restart. */
async function topicOffsets(kafka: Kafka, topic: string): Promise<{ partition: number; high: string }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return await admin.fetchTopicOffsets(topic);
      } catch (error) {
        if (attempt >= 30) throw error;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** Sum of end offsets of a topic (for "nothing was written" assertions). */
export async function endOffsets(kafka: Kafka, topic: string): Promise<bigint> {
  const offsets = await topicOffsets(kafka, topic);
  return offsets.reduce((sum, o) => sum + BigInt(o.high), 0n);
}

/** Reads every record of `topic` between two offset snapshots whose value matches `filter`. */
export async function readRecords(
  kafka: Kafka,
  topic: string,
  since: Map<number, string>,
  filter: (value: Wire) => boolean,
): Promise<{ value: Wire; timestamp: string; partition: number; offset: string }[]> {
  const ends = await topicOffsets(kafka, topic);
  const out: { value: Wire; timestamp: string; partition: number; offset: string }[] = [];
  const wanted = ends.filter((e) => BigInt(e.high) > BigInt(since.get(e.partition) ?? e.high));
  if (wanted.length === 0) return out;
  const consumer = kafka.consumer({ groupId: `ingest-test-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const remaining = new Map(wanted.map((e) => [e.partition, BigInt(e.high)]));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('readRecords timeout')), 60_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const start = BigInt(since.get(partition) ?? '0');
        const end = remaining.get(partition);
        if (end === undefined || BigInt(message.offset) < start) return;
        const value = JSON.parse(message.value?.toString() ?? 'null');
        if (filter(value))
          out.push({ value, timestamp: message.timestamp, partition, offset: message.offset });
        if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const e of wanted)
        consumer.seek({ topic, partition: e.partition, offset: since.get(e.partition) ?? '0' });
    });
  });
  await consumer.disconnect();
  return out;
}

/** Per-partition end offsets, to pass to {@link readRecords} later. */
export async function offsetsOf(kafka: Kafka, topic: string): Promise<Map<number, string>> {
  return new Map((await topicOffsets(kafka, topic)).map((o) => [o.partition, o.high]));
}
