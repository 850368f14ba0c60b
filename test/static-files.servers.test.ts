/**
 * Both real servers answer through the one static-file module
 * (common/static-files/): ingest's voter page and manifest, and the results
 * site's files — Brotli/gzip by Accept-Encoding q-values, Vary, a strong ETag
 * per coding, 304 on If-None-Match lists and weak tags, 406 when identity is
 * refused and nothing else is held, HEAD with the GET's Content-Length. And
 * ingest refuses to start without a build of the current client sources.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { loadUws } from '../common/uws.js';
import { ClientBuildError, readDist, writeDist } from '../ingest/client/dist.js';
import { serveClient } from '../ingest/client/serve.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { StaticServer } from '../publisher/static-server.js';
import { forgetElection, type Ingest, initElection, outputDir, startIngest } from './ingest.harness.js';
import { testPort } from './support/ports.js';
import { config } from './support/stack.js';

const PORT = testPort(18_820);
const ELECTION = `static-files-${Date.now().toString(36)}`;

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The bytes on the wire, not decoded. */
  readonly body: Buffer;
}

/** One request with node:http, which (unlike fetch) shows the encoded body and every header as sent. */
function raw(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const decode = (r: Raw): Buffer =>
  r.headers['content-encoding'] === 'br'
    ? brotliDecompressSync(r.body)
    : r.headers['content-encoding'] === 'gzip'
      ? gunzipSync(r.body)
      : r.body;

/** The promises every negotiated resource keeps, checked on one path of one server. */
async function checkResource(base: string, path: string): Promise<void> {
  const br = await raw(base, path, { 'accept-encoding': 'gzip, deflate, br' });
  expect(br.status).toBe(200);
  expect(br.headers['content-encoding']).toBe('br');
  expect(br.headers.vary).toMatch(/accept-encoding/i);
  const tag = String(br.headers.etag);
  expect(tag).toMatch(/^"[A-Za-z0-9_-]+-br"$/);

  // q=0 refuses Brotli (a substring test used to send it anyway)
  const gz = await raw(base, path, { 'accept-encoding': 'br;q=0, gzip' });
  expect(gz.headers['content-encoding']).toBe('gzip');
  expect(gz.headers.etag).toMatch(/-gzip"$/);
  const plain = await raw(base, path, { 'accept-encoding': 'identity' });
  expect(plain.headers['content-encoding']).toBeUndefined();
  expect(plain.headers.vary).toMatch(/accept-encoding/i);
  expect(decode(br)).toEqual(plain.body);
  expect(decode(gz)).toEqual(plain.body);
  expect(new Set([tag, gz.headers.etag, plain.headers.etag]).size).toBe(3);

  // If-None-Match: a list with a weak tag matches; the 304 carries the tag, Vary and no body
  const revalidated = await raw(base, path, {
    'accept-encoding': 'gzip, deflate, br',
    'if-none-match': `"old", W/${tag}`,
  });
  expect(revalidated.status).toBe(304);
  expect(revalidated.headers.etag).toBe(tag);
  expect(revalidated.headers.vary).toMatch(/accept-encoding/i);
  expect(revalidated.body.length).toBe(0);
  expect((await raw(base, path, { 'if-none-match': '*' })).status).toBe(304);
  // The Brotli variant's tag does not validate the gzip variant (RFC 9110 §8.8.3)
  expect((await raw(base, path, { 'accept-encoding': 'gzip', 'if-none-match': tag })).status).toBe(200);

  // HEAD: the GET's headers and Content-Length, no body
  const head = await raw(base, path, { 'accept-encoding': 'br' }, 'HEAD');
  expect(head.status).toBe(200);
  expect(head.headers['content-encoding']).toBe('br');
  expect(head.headers.etag).toBe(tag);
  expect(Number(head.headers['content-length'])).toBe(br.body.length);
  expect(head.body.length).toBe(0);
}

/** A HEAD that is refused sends no body either: the next answer on the kept-alive connection parses. */
async function checkHeadRefused(base: string, path: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const refused = await raw(base, path, {}, 'HEAD');
    expect(refused.status).toBe(404);
    expect(Number(refused.headers['content-length'])).toBeGreaterThan(0);
    expect((await raw(base, '/', { 'accept-encoding': 'br' })).status).toBe(200);
  }
}

describe('ingest', () => {
  let ingest: Ingest;
  let electionPath: string;

  beforeAll(async () => {
    // The tiny election (3 districts): its keys are quick to make.
    const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
    mkdirSync(outputDir, { recursive: true });
    electionPath = join(outputDir, `${ELECTION}.json`);
    writeFileSync(
      electionPath,
      `${JSON.stringify({ ...tiny, id: ELECTION, opens: '2020-01-01T00:00:00Z', closes: '2099-12-31T23:59:59Z', sampleRoll: { seed: ELECTION, size: 50 } })}\n`,
    );
    await initElection(electionPath);
    ingest = await startIngest({ election: electionPath, port: PORT, processes: 1 });
  }, 300_000);

  afterAll(async () => {
    await ingest?.stop();
    await forgetElection(config, ELECTION);
  });

  it('serves the voter page, its assets and the official page through the shared module', async () => {
    await checkResource(ingest.base, '/');
    await checkResource(ingest.base, '/official/');
    const page = (await raw(ingest.base, '/')).body.toString();
    const script = /src="(\/assets\/main-[^"]+\.js)"/.exec(page)?.[1];
    await checkResource(ingest.base, script!);
    // Every coding refused, identity too: nothing acceptable (406), whatever the file's size
    const refused = await raw(ingest.base, '/assets/config.json', {
      'accept-encoding': 'br;q=0, gzip;q=0, identity;q=0',
    });
    expect(refused.status).toBe(406);
    expect(refused.headers.vary).toMatch(/accept-encoding/i);
    await checkHeadRefused(ingest.base, '/assets/nothing.js');
  });

  it('compresses the election description and the list, with ETags, 304 and HEAD', async () => {
    await checkResource(ingest.base, `/v1/elections/${ELECTION}`);
    await checkResource(ingest.base, '/v1/elections');
    const manifest = await raw(ingest.base, `/v1/elections/${ELECTION}`, { 'accept-encoding': 'br' });
    expect(manifest.headers['content-type']).toBe('application/json');
    expect(manifest.headers['cache-control']).toBe('public, max-age=60');
    expect(JSON.parse(decode(manifest).toString()).id).toBe(ELECTION);
    expect(manifest.body.length).toBeLessThan(decode(manifest).length);
    const refused = await raw(ingest.base, `/v1/elections/${ELECTION}`, { 'accept-encoding': 'zstd, *;q=0' });
    expect(refused.status).toBe(406);
    expect(JSON.parse(refused.body.toString()).error.code).toBe('not_acceptable');
    await checkHeadRefused(ingest.base, '/v1/elections/no-such-election');
  });
});

describe('the results site', () => {
  let root: string;
  let base: string;
  let server: StaticServer;
  /** Larger than a socket's buffer, and not compressed (an image): sent under back-pressure. */
  const big = randomBytes(6 * 1024 * 1024);
  const page = `<!doctype html><title>results</title>${'<p>Сайлау нәтижелері</p>'.repeat(100)}`;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'saylau-static-'));
    writeFileSync(join(root, 'index.html'), page);
    writeFileSync(join(root, 'big.png'), big);
    writeFileSync(join(root, 'latest.json'), JSON.stringify({ seq: 1, rows: Array(200).fill({ votes: 1 }) }));
    server = new StaticServer({
      root,
      port: 0,
      opsPort: 0,
      host: '127.0.0.1',
      metrics: new PublisherMetrics(),
      logger: createLogger('site', 'warn'),
      ready: () => true,
    });
    base = `http://127.0.0.1:${await server.listen()}/`;
  });

  afterAll(() => {
    server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves pages and feeds through the shared module', async () => {
    await checkResource(base, '/');
    await checkResource(base, '/latest.json');
    expect((await fetch(`${base}latest.json`, { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD');
    await checkHeadRefused(base, '/nothing.json');
  });

  it('sends a large file whole under back-pressure, and survives a client that goes away mid-body', async () => {
    const gone = new Promise<void>((resolve) => {
      const req = request(new URL('/big.png', base), (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await gone;
    const whole = await raw(base, '/big.png', { 'accept-encoding': 'br, gzip' });
    expect(whole.status).toBe(200);
    expect(whole.headers['content-encoding']).toBeUndefined();
    expect(whole.headers['content-type']).toBe('image/png');
    expect(whole.body.equals(big)).toBe(true);
  });

  it('still picks up a file rewritten while it runs (a new snapshot): new body, new tag', async () => {
    const before = await raw(base, '/latest.json', { 'accept-encoding': 'br' });
    writeFileSync(join(root, 'latest.json'), JSON.stringify({ seq: 2, rows: Array(300).fill({ votes: 2 }) }));
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the cache's revalidation interval
    const after = await raw(base, '/latest.json', {
      'accept-encoding': 'br',
      'if-none-match': String(before.headers.etag),
    });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(JSON.parse(decode(after).toString()).seq).toBe(2);
  });
});

describe('the client build', () => {
  it('stops ingest start-up when missing or stale, naming the command to run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'saylau-dist-'));
    const dist = join(dir, 'dist');
    const app = loadUws().App();
    const log = createLogger('static-files-test', 'silent');
    try {
      await expect(serveClient(app, config, log, 60, dist)).rejects.toThrow(ClientBuildError);
      await expect(readDist(dist)).rejects.toThrow(/npm run client:build/);
      await writeDist(await readDist(), dist);
      await expect(serveClient(app, config, log, 60, dist)).resolves.toBeUndefined();
      const index = JSON.parse(readFileSync(join(dist, 'files.json'), 'utf8'));
      writeFileSync(join(dist, 'files.json'), JSON.stringify({ ...index, source: 'other sources' }));
      await expect(readDist(dist)).rejects.toThrow(/stale.*npm run client:build/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
