/**
 * `npm start`: the whole local system with the sample election.
 *
 *   1. the stack (Redis, 3 Kafka brokers, ClickHouse) and its topics
 *   2. the election: config validated, keys made, roll loaded, manifest written
 *   3. ClickHouse migrations
 *   4. ingest (one process per core, port 8080), the publisher (8081) and the
 *      admin service (8090: the commission's operations, docs/operations.md)
 *
 * Steps 2–3 are the services' own CLIs, run as child processes, so this file
 * only sequences them. Ctrl-C (or SIGTERM) stops ingest, the publisher and
 * the admin service gracefully; the stack keeps running (`npm run stack -- down` stops it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadConfig } from '../common/config.js';
import { repoRoot } from '../common/paths.js';
import { loadElection } from '../election/index.js';
import { Stack } from './stack/stack.js';
import { waitFor } from './stack/supervisor.js';
import { awaitCluster, ensureTopics } from './topics.js';

/** The demo's defaults; anything set in the environment wins. */
const DEMO_ENV: Readonly<Record<string, string>> = {
  DEV_LOGIN: '1',
  SNAPSHOT_INTERVAL: '60',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
};
const env = { ...DEMO_ENV, ...process.env } as Record<string, string>;
const config = loadConfig(env);
const say = (line: string): void => {
  process.stderr.write(`[start] ${line}\n`);
};

function run(label: string, args: readonly string[]): Promise<void> {
  say(label);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: repoRoot,
      env,
      stdio: 'inherit',
    });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${label} failed (exit ${code})`)),
    );
  });
}

function serve(name: string, entry: string, ...args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env,
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping`);
      void stop(1);
    }
  });
  return child;
}

let stopping = false;
const services: ChildProcess[] = [];

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    services.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  say('ingest, publisher and admin stopped; the stack is still up (npm run stack -- down)');
  process.exit(code);
}

async function main(): Promise<void> {
  const stack = new Stack(config);
  say('bringing the stack up (first run installs packages and Kafka jars)…');
  await stack.up(say);
  await awaitCluster(config);
  const election = loadElection(config.election);
  for (const line of await ensureTopics(config, election.partitionCount)) say(line);
  await run(`preparing election ${election.id}`, ['election/cli.ts', 'init', config.election]);
  await run('applying ClickHouse migrations', ['aggregator/cli.ts', 'migrate']);
  services.push(
    serve('ingest', 'ingest/main.ts'),
    serve('publisher', 'publisher/main.ts'),
    serve('admin', 'election/admin/cli.ts', 'serve'),
  );
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  // Readiness is on the operations ports; the public ones answer 404 there.
  for (const port of [config.ingest.opsPort, config.publisher.opsPort, config.admin.opsPort]) {
    const ready = await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      120_000,
      500,
    );
    if (!ready) throw new Error(`nothing ready on port ${port} after 120 s; see the log lines above`);
  }
  say(
    `voting:  http://127.0.0.1:${config.ingest.port}/  (dev login on; ${config.ingest.processes} ingest processes)`,
  );
  say(
    `officials: http://127.0.0.1:${config.ingest.port}/official/#token=<token from: npm run --silent election -- staff-token ${election.id} --role official --official ${election.config.paperPrecincts[0]?.officials[0]?.id ?? '<id>'}>  (docs/paper.md)`,
  );
  say(`results: http://127.0.0.1:${config.publisher.port}/  (a snapshot every ${env.SNAPSHOT_INTERVAL} s)`);
  const operator = election.config.operators?.[0]?.id ?? '<operator id>';
  say(
    `admin:   ${config.admin.url}/v1/admin/state  (commission operations: npm run admin -- --help; token: npm run --silent election -- staff-token ${election.id} --role operator --id ${operator}; docs/operations.md)`,
  );
  say(
    `operations (/healthz /readyz /metrics): ingest :${config.ingest.opsPort}, publisher :${config.publisher.opsPort}, admin :${config.admin.opsPort}`,
  );
  say('Ctrl-C to stop');
}

main().catch((err: unknown) => {
  say(err instanceof Error ? err.message : String(err));
  void stop(1);
});
