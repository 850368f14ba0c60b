/**
 * `npx tsx publisher/bench.ts [--duration 10] [--connections 100]`
 *
 * Static serving rate of the results site next to uWebSockets.js
 * hello-world, in the same run on the same machine, so the ratio means
 * something even when the absolute numbers move with the box. Each server
 * runs in its own child process; autocannon drives it from this one.
 * Writes test-output/publisher-bench.json and prints a table.
 *
 * Targets: uWS hello-world; the site's `index.html` (and the same file from
 * node:http over the same cache, the alternative); `latest.json` (a full
 * sample-election snapshot, gzip) — what a results-night refresh fetches.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { loadUws } from '../common/uws.js';
import { loadElection } from '../election/index.js';
import { type Entry, FileCache } from './file-cache.js';
import { PublisherMetrics } from './metrics.js';
import { signSnapshot } from './signer.js';
import { installSite } from './site-assets.js';
import { buildSnapshot } from './snapshot-builder.js';
import { SnapshotStore } from './snapshot-store.js';
import { StaticServer } from './static-server.js';

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  throughput: { average: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    root: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
  },
});

if (values.serve !== undefined) await serve(values.serve, values.root ?? '');
else await run(Number(values.duration), Number(values.connections));

/** Child: one server, port reported to the parent. */
async function serve(kind: string, root: string): Promise<void> {
  let port: number;
  if (kind === 'hello') {
    const uws = loadUws();
    port = await new Promise<number>((resolve) => {
      uws
        .App()
        .get('/*', (res) => {
          res.end('Hello World!');
        })
        .listen('127.0.0.1', 0, (token) => resolve(uws.us_socket_local_port(token as never)));
    });
  } else if (kind === 'node') {
    // The alternative we did not pick: node:http over the same in-memory cache.
    const cache = new FileCache(root);
    const server = createServer((req, res) => {
      const path = FileCache.resolve(req.url ?? '/');
      const send = (entry: Entry | null) => {
        if (entry === null) return res.writeHead(404).end();
        // The plain variant, as the node:http baseline has always sent.
        const plain = entry.rep.variants[entry.rep.variants.length - 1]!;
        res.writeHead(200, Object.fromEntries(plain.headers));
        res.end(plain.body);
      };
      if (path === null) return send(null);
      const hit = cache.fresh(path, Date.now());
      if (hit !== undefined) send(hit);
      else void cache.load(path).then(send);
    });
    port = await new Promise<number>((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  } else {
    const server = new StaticServer({
      root,
      port: 0,
      opsPort: 0,
      host: '127.0.0.1',
      metrics: new PublisherMetrics(),
      logger: createLogger('bench', 'warn'),
      ready: () => true,
    });
    port = await server.listen();
  }
  process.send?.({ port });
}

async function start(kind: string, root = ''): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, '--root', root], {
    execArgv: process.execArgv,
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`server ${kind} exited with ${code}`)));
  });
  return { child, port };
}

async function run(duration: number, connections: number): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'saylau-bench-'));
  const snapshotBytes = await publishSample(root);
  const targets = [
    { name: 'uws hello-world', kind: 'hello', path: '/' },
    { name: 'site index.html', kind: 'site', path: '/' },
    { name: 'node:http index.html', kind: 'node', path: '/' },
    { name: 'site latest.json (gzip)', kind: 'site', path: '/latest.json', gzip: true },
  ];
  const results = [];
  for (const target of targets) {
    const { child, port } = await start(target.kind, root);
    try {
      const url = `http://127.0.0.1:${port}${target.path}`;
      const headers: Record<string, string> = target.gzip === true ? { 'accept-encoding': 'gzip' } : {};
      await autocannon({ url, connections, duration: 2, headers }); // warm-up
      const r = await autocannon({ url, connections, duration, headers });
      results.push({
        name: target.name,
        path: target.path,
        requestsPerSec: Math.round(r.requests.average),
        latencyMs: { p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.average },
        throughputMBps: Math.round((r.throughput.average / 1e6) * 10) / 10,
        non2xx: r.non2xx,
        errors: r.errors,
      });
    } finally {
      child.kill('SIGTERM');
    }
  }
  const hello = results[0]!.requestsPerSec;
  const report = {
    when: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    durationSec: duration,
    connections,
    latestJsonBytes: snapshotBytes,
    note: 'server and load generator share this machine; compare ratios, not absolute numbers',
    results: results.map((r) => ({ ...r, ratioToHello: Math.round((r.requestsPerSec / hello) * 100) / 100 })),
  };
  const out = join(repoRoot, 'test-output');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'publisher-bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  for (const r of report.results) {
    process.stdout.write(
      `${r.name.padEnd(26)} ${String(r.requestsPerSec).padStart(8)} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms  ${r.throughputMBps} MB/s  ×${r.ratioToHello}\n`,
    );
  }
  await rm(root, { recursive: true, force: true });
}

/** A signed snapshot of the sample election with every race, region and district (all zero). */
async function publishSample(root: string): Promise<number> {
  await installSite(root);
  const index = loadElection('sample');
  const store = new SnapshotStore(root);
  await store.open();
  const empty = {
    tally: [],
    paperProtocols: [],
    paperDissents: [],
    paperCheckIns: [],
    turnout: [],
    codes: [],
    roll: new Map(),
    events: [],
  };
  // The size of a real key list: one 64-hex fingerprint per district.
  const keys = index.config.districts.map((d) => ({
    id: d.id,
    sha256: createHash('sha256').update(d.id).digest('hex'),
  }));
  const unsigned = buildSnapshot(
    index,
    empty,
    { seq: 1, prevHash: null, takenAtMs: Date.now() },
    keys,
    new Map(),
    { closesAtMs: index.closesAt, snapshotIntervalSec: index.config.snapshotIntervalSec },
  );
  const snapshot = signSnapshot(unsigned, generateKeyPairSync('ed25519').privateKey);
  await store.publish(snapshot, []);
  return Buffer.byteLength(JSON.stringify(snapshot));
}
