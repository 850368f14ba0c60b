/**
 * `npm run stack -- <command>`: the local Redis, 3-broker Kafka and
 * ClickHouse, with all state under `.stack/`.
 *
 *   up       install what is missing, start what is not running, wait until
 *            healthy, create the topics; a second `up` changes nothing
 *   down     stop what `up` started (by pid file)
 *   status   each service up/down, exit 1 if any is down
 *   reset    wipe all data (the stack must be down; jars are kept)
 *   logs     print the last lines of every log, or of one: `logs kafka-2`
 *   topics   create or grow the topics for $ELECTION
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../common/config.js';
import { loadElection } from '../election/index.js';
import { type ServiceStatus, Stack, StackError } from './stack/stack.js';
import { awaitCluster, ensureTopics } from './topics.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const progress = (line: string): void => {
  process.stderr.write(`[stack] ${line}\n`);
};

function printStatus(statuses: readonly ServiceStatus[]): void {
  for (const s of statuses) {
    const state = s.pid === null ? 'down' : s.healthy ? 'up' : 'starting/unhealthy';
    say(`${s.name.padEnd(11)} ${state.padEnd(18)} ${s.endpoint}${s.pid === null ? '' : `  pid ${s.pid}`}`);
  }
}

async function topics(stack: Stack): Promise<void> {
  const election = loadElection(stack.config.election);
  await awaitCluster(stack.config);
  for (const line of await ensureTopics(stack.config, election.partitionCount)) progress(line);
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log yet)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [command = 'status', arg] = argv;
  const stack = new Stack(loadConfig());
  switch (command) {
    case 'up': {
      const statuses = await stack.up(progress);
      await topics(stack);
      printStatus(statuses);
      return 0;
    }
    case 'down':
      await stack.down(progress);
      printStatus(await stack.status());
      return 0;
    case 'status': {
      const statuses = await stack.status();
      printStatus(statuses);
      return statuses.every((s) => s.healthy) ? 0 : 1;
    }
    case 'reset':
      await stack.reset();
      say(`wiped ${stack.layout.root} (Kafka jars kept)`);
      return 0;
    case 'logs':
      for (const s of arg === undefined ? stack.services : [stack.service(arg)]) {
        say(`==> ${s.name}: ${stack.layout.logFile(s.name)}`);
        say(tail(stack.layout.logFile(s.name), 40));
      }
      return 0;
    case 'topics':
      await topics(stack);
      return 0;
    default:
      process.stderr.write(
        `unknown command "${command}"; use up | down | status | reset | logs [service] | topics\n`,
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof StackError || err instanceof ConfigError) {
      process.stderr.write(`[stack] ${err.code}: ${err.message}\n`);
    } else {
      process.stderr.write(`[stack] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  },
);
