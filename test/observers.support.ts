/**
 * Shared by the observers' test files: a fresh tiny election, a publisher
 * process (its public port serves `/observe/` and `/v1/observe/feed`), and a
 * feed client that keeps every view and the close code.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../common/paths.js';
import { type ElectionIndex, loadElection } from '../election/index.js';
import type { FeedBody } from '../publisher/observer-feed.js';
import { initElection } from './ingest.harness.js';

export const outputDir = join(repoRoot, 'test-output', 'observers');

/** `election/configs/tiny.json` under a fresh id, open now, with a small roll. */
export async function prepareTinyElection(id: string): Promise<{ path: string; index: ElectionIndex }> {
  mkdirSync(outputDir, { recursive: true });
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  const path = join(outputDir, `${id}.json`);
  writeFileSync(path, `${JSON.stringify({ ...tiny, id, sampleRoll: { seed: id, size: 600 } }, null, 2)}\n`);
  await initElection(path);
  return { path, index: loadElection(path) };
}

export interface Publisher {
  readonly base: string;
  readonly publicDir: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Spawns `publisher/main.ts` (dev login on: observers' dev tokens are trusted) and waits for its port. */
export async function startPublisher(options: {
  election: string;
  port: number;
  publicDir: string;
  env?: Record<string, string>;
}): Promise<Publisher> {
  mkdirSync(options.publicDir, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'publisher/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ELECTION: options.election,
      PUBLIC_DIR: options.publicDir,
      PUBLISHER_PORT: String(options.port),
      PUBLISHER_OPS_PORT: '0',
      SNAPSHOT_INTERVAL: '3',
      DEV_LOGIN: '1',
      LOG_LEVEL: 'info',
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
  child.on('exit', () => writeFileSync(`${options.publicDir}.log`, output));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const base = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`publisher exited during start:\n${output}`);
    try {
      if ((await fetch(`${base}/observe/`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`publisher not up in 180 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    publicDir: options.publicDir,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface MiniSocket {
  on(event: 'open', listener: () => void): void;
  on(event: 'message', listener: (data: unknown) => void): void;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  send(text: string): void;
  close(): void;
}

/** One observer's connection: every view received, and how it closed. */
export class FeedClient {
  readonly views: FeedBody[] = [];
  /** Every raw message, to check what the feed never carries. */
  readonly raw: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** How it closed, once it has (for assertion messages). */
  closedWith: { code: number; reason: string } | null = null;
  readonly #socket: MiniSocket;

  /** Connects; `first` (if given) is sent as the first message once open. */
  constructor(url: string, first?: string) {
    const require = createRequire(import.meta.url);
    // `ws` comes with the uWebSockets.js package; Node 20 has no global WebSocket.
    const { WebSocket } = require('ws') as { WebSocket: new (url: string) => MiniSocket };
    this.#socket = new WebSocket(url);
    this.#socket.on('error', () => undefined);
    if (first !== undefined) this.#socket.on('open', () => this.#socket.send(first));
    this.#socket.on('message', (data) => {
      this.raw.push(String(data));
      this.views.push(JSON.parse(String(data)) as FeedBody);
    });
    this.closed = new Promise((resolve) =>
      this.#socket.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        resolve(this.closedWith);
      }),
    );
  }

  get latest(): FeedBody | undefined {
    return this.views.at(-1);
  }

  close(): void {
    this.#socket.close();
  }
}

export const feedUrl = (port: number): string => `ws://127.0.0.1:${port}/v1/observe/feed`;
