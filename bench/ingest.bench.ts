/**
 * Ingest macro-benchmark (STYLE 13): issuance/s and ballots/s with p50/p99,
 * next to uWS hello-world req/s measured in the same run with the same load
 * generator (autocannon) and connection count, so the figures read as "how
 * close to the transport's ceiling is ingest on this machine".
 *
 *   1. hello world (one uWS process)                 GET /          for DURATION
 *   2. issuance   (ingest, INGEST_PROCESSES workers) POST /v1/credentials, distinct voters
 *   3. casting    (same processes)                   POST /v1/ballots, distinct pre-issued credentials
 *
 * Credentials for the cast phase are made directly with the district private
 * keys (an RSA-PSS signature over a random prepared message is exactly what a
 * finalized blind signature is), so the cast phase measures casting only.
 * Issuance uses random in-range blinded messages: the server cannot tell
 * them from real ones (that is the point of blinding).
 *
 * Writes docs/reports/ingest-bench.json.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants, randomBytes, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../common/config.js';
import { repoRoot } from '../common/paths.js';
import {
  issueDevToken,
  listSampleMembers,
  loadElection,
  MAX_SAMPLE_PAGE,
  readKeys,
} from '../election/index.js';
import { modulusOf } from '../ingest/crypto/blind-rsa.js';

interface Histogram {
  readonly average: number;
  readonly p50: number;
  readonly p99: number;
}
interface AutocannonResult {
  readonly requests: Histogram & { readonly total: number };
  readonly latency: Histogram;
  readonly duration: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodeStats: Record<string, { count: number }>;
}
interface RequestSpec {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const run = promisify(execFile);

const ELECTION = 'ingest-bench';
const HELLO_PORT = 18_590;
const INGEST_PORT = 18_591;
/** `/readyz` and `/metrics` live on the operations port. */
const OPS_PORT = INGEST_PORT + 1000;
/** `npm run bench -- ingest --connections=N` (default 256: many voters, so batches fill). */
const CONNECTIONS = Number(process.argv.find((a) => a.startsWith('--connections='))?.slice(14) ?? 256);
const DURATION_SEC = 10;
const ISSUES = 4_000;
const CASTS = 8_000;
const PROCESSES = availableParallelism();

const config = loadConfig();

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (d) => {
      seen += d;
      if (pattern.test(seen)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ready:\n${seen}`)));
  });
}

async function waitReady(base: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('ingest did not become ready');
}

function summary(name: string, result: AutocannonResult) {
  const codes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([c, s]) => [c, s.count]));
  const line = {
    name,
    requests: result.requests.total,
    perSecond: Math.round(result.requests.total / result.duration),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, average: result.latency.average },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: codes,
  };
  process.stdout.write(
    `${name.padEnd(12)} ${String(line.perSecond).padStart(7)} req/s   p50 ${line.latencyMs.p50} ms   p99 ${line.latencyMs.p99} ms   ` +
      `${JSON.stringify(codes)}\n`,
  );
  return line;
}

/** Averages from one worker's /metrics (each scrape reaches one process). */
async function scrape(base: string) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  const avg = (name: string, labels: string) =>
    value(new RegExp(`${name}_sum${labels} ([0-9.e+-]+)`)) /
    value(new RegExp(`${name}_count${labels} ([0-9.e+-]+)`));
  return {
    ballotsPerProduce: avg('saylau_kafka_produce_batch_size', '\\{topic="ballots"\\}'),
    issuancePerProduce: avg('saylau_kafka_produce_batch_size', '\\{topic="issuance"\\}'),
    produceMs: avg('saylau_kafka_produce_duration_seconds', '') * 1000,
    redisBeginMs: avg('saylau_redis_command_duration_seconds', '\\{op="begin"\\}') * 1000,
    castMs: avg('saylau_http_request_duration_seconds', '\\{route="ballots"\\}') * 1000,
    issueMs: avg('saylau_http_request_duration_seconds', '\\{route="credentials"\\}') * 1000,
  };
}

/** autocannon over a fixed list of distinct requests, each sent once. */
function cycle(url: string, requests: RequestSpec[]): Promise<AutocannonResult> {
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    amount: requests.length,
    timeout: 30,
    requests: [
      {
        setupRequest: (req: RequestSpec) => {
          const spec = requests[next++ % requests.length]!;
          return { ...req, ...spec, headers: { 'content-type': 'application/json', ...spec.headers } };
        },
      },
    ],
  });
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  process.stdout.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ingest processes: ${PROCESSES}\n`,
  );

  // 1. Baseline.
  const hello = spawn(
    process.execPath,
    ['--import', 'tsx', join('bench', 'hello-uws.ts'), String(HELLO_PORT)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await waitForLine(hello, /listening/);
  const helloResult = summary(
    'hello-world',
    await autocannon({
      url: `http://127.0.0.1:${HELLO_PORT}/`,
      connections: CONNECTIONS,
      duration: DURATION_SEC,
    }),
  );
  hello.kill('SIGTERM');

  // 2. A private election with a roll big enough for the issuance phase.
  const sample = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'sample.json'), 'utf8'));
  const outDir = join(repoRoot, 'test-output', 'bench');
  mkdirSync(outDir, { recursive: true });
  const electionPath = join(outDir, `${ELECTION}.json`);
  writeFileSync(
    electionPath,
    JSON.stringify({
      ...sample,
      id: ELECTION,
      opens: '2020-01-01T00:00:00Z',
      closes: '2099-12-31T23:59:59Z',
      sampleRoll: { seed: ELECTION, size: ISSUES * 2 },
    }),
  );
  await run(process.execPath, ['--import', 'tsx', 'election/cli.ts', 'init', electionPath], {
    cwd: repoRoot,
  });
  const index = loadElection(electionPath);
  const keys = await readKeys(config.stackDir, index.id);
  const redis = new Redis({ host: config.redis.host, port: config.redis.port });
  for (const pattern of [`voter:*:${ELECTION}:*`, `cred:*:${ELECTION}:*`]) {
    let cursor = '0';
    do {
      const [nextCursor, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      if (found.length > 0) await redis.del(...found);
      cursor = nextCursor;
    } while (cursor !== '0');
  }
  redis.disconnect();

  // Requests, prepared before the clock starts.
  const members: { memberId: string; district: string }[] = [];
  while (members.length < ISSUES) {
    const page = listSampleMembers(index, members.length, Math.min(MAX_SAMPLE_PAGE, ISSUES - members.length));
    if (page.length === 0) break;
    members.push(...page);
  }
  const issueRequests: RequestSpec[] = [];
  for (const member of members) {
    const modulus = modulusOf(keys.districts.get(member.district)!.publicKey);
    const blinded = randomBytes(modulus.length);
    blinded[0] = modulus[0]! - 1; // below n
    issueRequests.push({
      method: 'POST',
      path: '/v1/credentials',
      headers: { authorization: `Bearer ${await issueDevToken(keys, index, member.memberId)}` },
      body: JSON.stringify({ election: index.id, blindedMessage: blinded.toString('base64url') }),
    });
  }
  const districts = index.config.districts;
  const castRequests: RequestSpec[] = [];
  for (let i = 0; i < CASTS; i++) {
    const district = districts[i % districts.length]!;
    const prepared = randomBytes(64);
    const signature = sign('sha384', prepared, {
      key: keys.districts.get(district.id)!.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 48,
    });
    const selections = index.racesOf(district.id).map((race) => {
      const active = race.candidates.filter((c) => c.status === 'active');
      return { race: race.id, choices: [active[i % active.length]!.id] };
    });
    castRequests.push({
      method: 'POST',
      path: '/v1/ballots',
      body: JSON.stringify({
        election: index.id,
        district: district.id,
        credential: { message: prepared.toString('base64url'), signature: signature.toString('base64url') },
        selections,
      }),
    });
  }

  // 3. Ingest under load.
  const ingest = spawn(process.execPath, ['--import', 'tsx', join('ingest', 'main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ELECTION: electionPath,
      INGEST_PORT: String(INGEST_PORT),
      INGEST_OPS_PORT: String(OPS_PORT),
      INGEST_PROCESSES: String(PROCESSES),
      // The tokens above are the dev login's: ingest trusts its issuer only with the dev login on.
      DEV_LOGIN: '1',
      // All bench requests come from one address; the address limit is for real voters.
      INGEST_ISSUE_ADDRESS_PER_MIN: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${INGEST_PORT}`;
  const ops = `http://127.0.0.1:${OPS_PORT}`;
  try {
    await waitReady(ops);
    const issuance = summary('issuance', await cycle(base, issueRequests));
    const casting = summary('ballots', await cycle(base, castRequests));
    const inside = await scrape(ops);
    process.stdout.write(`one process: ${JSON.stringify(inside)}\n`);
    const report = {
      takenAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? null,
        node: process.version,
        // Other work on the box skews every figure: the 1/5/15-min load averages before and after.
        loadAverage: { before: loadBefore, after: loadavg() },
      },
      load: { generator: 'autocannon', connections: CONNECTIONS, helloDurationSec: DURATION_SEC },
      ingest: {
        processes: PROCESSES,
        lingerMs: config.ingest.produceLingerMs,
        maxBatch: config.ingest.produceMaxBatch,
        keyBits: keys.districts.values().next().value?.bits ?? null,
      },
      helloWorld: helloResult,
      issuance,
      ballots: casting,
      oneProcess: inside,
      note: 'Same host as Redis, 3 Kafka brokers (acks=all, RF 3) and ClickHouse; the load generator shares the cores.',
    };
    const reportPath = join(repoRoot, 'docs', 'reports', 'ingest-bench.json');
    mkdirSync(join(repoRoot, 'docs', 'reports'), { recursive: true });
    writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`report: ${reportPath}\n`);
  } finally {
    ingest.kill('SIGTERM');
    await new Promise((r) => ingest.once('exit', r));
  }
}

await main();
