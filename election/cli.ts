/**
 * Admin CLI for elections: `npm run election -- <command> [election] [options]`.
 *
 * `<election>` is a config name in election/configs/ (`sample`) or a path;
 * it defaults to the ELECTION setting. Progress goes to stderr, data (CSV,
 * manifest JSON) to stdout, so both pipe cleanly.
 */
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { type Config, ConfigError, loadConfig } from '../common/config.js';
import { ElectionError } from './errors.js';
import { issueDevStaffToken, type StaffRole } from './identity.js';
import { ensureRoll, initElection, type RollLoadOptions } from './init.js';
import { keysDir, makeKeys, readKeys } from './keys.js';
import { type ElectionIndex, loadElection } from './load.js';
import { buildManifest, manifestPath, writeManifest } from './manifest.js';
import { sampleRollCsv } from './sample-roll.js';

const USAGE = `usage: npm run election -- <command> [election] [options]

commands
  validate <file|name>                      check a config; prints every problem as path: message
  keys     [election] [--bits 2048|3072] [--force]
                                            make missing keys (all with --force: new pepper, reload roll)
  init     [election] [--csv file] [--skip-bad-rows]
                                            validate, make missing keys, write manifest, load roll
  load     [election] [--csv file] [--skip-bad-rows] [--force]
                                            load the roll into Redis (synthetic sample or CSV)
  roll     [election] [--out file]          write the synthetic roll as CSV (member_id,district)
  manifest [election] [--out file|-]        write the public manifest (default <publicDir>/elections/<id>.json)
  staff-token [election] --role official --official <id> [--precinct <id>]
  staff-token [election] --role observer|operator|committee --id <id>
                                            print a staff token signed by the dev login key (demo, tests;
                                            ingest accepts it only with DEV_LOGIN=1)

election: a name in election/configs/ or a path; default $ELECTION (sample)`;

const OPTIONS = {
  bits: { type: 'string' },
  force: { type: 'boolean', default: false },
  csv: { type: 'string' },
  'skip-bad-rows': { type: 'boolean', default: false },
  out: { type: 'string' },
  role: { type: 'string' },
  official: { type: 'string' },
  precinct: { type: 'string' },
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  const [command, target, ...rest] = positionals;
  if (values.help || command === undefined) {
    say(USAGE);
    return;
  }
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const settings = loadConfig();
  const election = (): ElectionIndex => loadElection(target ?? settings.election);

  switch (command) {
    case 'validate': {
      const index = loadElection(target ?? settings.election);
      say(
        `${index.source}: valid — ${index.config.regions.length} regions, ${index.config.districts.length} districts, ` +
          `${index.config.races.length} races, ${index.partitionCount} partitions`,
      );
      return;
    }
    case 'keys':
      return keysCommand(settings, election(), values);
    case 'init':
      return withRedis(settings, async (redis) => {
        await initElection(settings, election(), redis, {
          ...rollOptions(values),
          keys: { onProgress: keyProgress() },
          log: say,
        });
      });
    case 'load':
      return withRedis(settings, async (redis) => {
        const index = election();
        const result = await ensureRoll(redis, index, await readKeys(settings.stackDir, index.id), {
          ...rollOptions(values),
          force: values.force,
          keepIn: settings.stackDir,
        });
        say(
          result.action === 'kept'
            ? `roll: this roll is already loaded (${result.meta.count} members); --force reloads it`
            : `roll: loaded ${result.meta.count} members from ${result.meta.source}`,
        );
      });
    case 'roll': {
      const out: Writable = values.out === undefined ? process.stdout : createWriteStream(values.out);
      await pipeline(Readable.from(sampleRollCsv(election())), out);
      return;
    }
    case 'manifest': {
      const index = election();
      const manifest = buildManifest(index, await readKeys(settings.stackDir, index.id));
      if (values.out === '-') {
        process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
        return;
      }
      const path = values.out ?? manifestPath(settings.publisher.publicDir, index.id);
      await writeManifest(path, manifest);
      say(`manifest: ${path}`);
      return;
    }
    case 'staff-token':
      return staffTokenCommand(settings, election(), values);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function keysCommand(settings: Config, index: ElectionIndex, values: Values): Promise<void> {
  const bits = values.bits === undefined ? 2048 : Number(values.bits);
  if (bits !== 2048 && bits !== 3072) throw new UsageError('--bits must be 2048 or 3072');
  const started = Date.now();
  const result = await makeKeys(settings.stackDir, index, {
    bits,
    force: values.force,
    onProgress: keyProgress(),
  });
  say(
    `keys: made ${result.created}, kept ${result.kept} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (values.force && result.created > 0 ? ' — new pepper: reload the roll (load --force)' : ''),
  );
  say(
    `keys: ${keysDir(settings.stackDir, index.id)}/ — deploy ingest/ + public/ to voting hosts, ` +
      'publisher/ + public/ to the results host, dev-login/ to demos only (election/README.md#keys)',
  );
}

/** An official's token names the precinct listing them (taken from the config when not given). */
async function staffTokenCommand(settings: Config, index: ElectionIndex, values: Values): Promise<void> {
  let staff: { role: StaffRole; id: string; precinct?: string };
  if (values.role === 'observer' || values.role === 'operator' || values.role === 'committee') {
    if (values.id === undefined) throw new UsageError(`--role ${values.role} needs --id`);
    const listed = values.role === 'operator' ? index.config.operators : index.config.committee;
    if (values.role !== 'observer' && !listed?.some((m) => m.id === values.id)) {
      throw new UsageError(
        `"${values.id}" is not in the ${values.role === 'operator' ? 'operators' : 'committee'} of ${index.id}`,
      );
    }
    staff = { role: values.role, id: values.id };
  } else if (values.role === 'official') {
    const id = values.official;
    if (id === undefined) throw new UsageError('--role official needs --official');
    const precinct = index.config.paperPrecincts.find((p) => p.officials.some((o) => o.id === id));
    if (precinct === undefined) throw new UsageError(`"${id}" is no official of any precinct of ${index.id}`);
    if (values.precinct !== undefined && values.precinct !== precinct.id) {
      throw new UsageError(`"${id}" is an official of ${precinct.id}, not of ${values.precinct}`);
    }
    staff = { role: 'official', id, precinct: precinct.id };
  } else {
    throw new UsageError('--role must be official, observer, operator or committee');
  }
  const keys = await readKeys(settings.stackDir, index.id);
  process.stdout.write(`${await issueDevStaffToken(keys, index, staff)}\n`);
}

function rollOptions(values: Values): RollLoadOptions {
  return {
    ...(values.csv === undefined ? {} : { csv: values.csv }),
    skipBadRows: values['skip-bad-rows'],
    onProgress: throttled((loaded: number, total: number) =>
      say(`roll: ${loaded}/${total} (${Math.floor((loaded / Math.max(1, total)) * 100)}%)`),
    ),
  };
}

function keyProgress(): (done: number, total: number) => void {
  return throttled((done: number, total: number) => say(`keys: ${done}/${total}`));
}

/** At most one progress line a second, plus the last one. */
function throttled(print: (done: number, total: number) => void): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 1000) return;
    last = now;
    print(done, total);
  };
}

async function withRedis(settings: Config, run: (redis: Redis) => Promise<void>): Promise<void> {
  const redis = new Redis({
    host: settings.redis.host,
    port: settings.redis.port,
    lazyConnect: true,
    // An admin command should fail fast and say why, not retry forever.
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
  });
  // Connection errors surface through the failing command or connect(); the
  // listener only stops ioredis from also printing them as unhandled events.
  let lastError: unknown = null;
  redis.on('error', (err: unknown) => {
    lastError = err;
  });
  try {
    await redis.connect();
  } catch (cause) {
    redis.disconnect();
    throw new ElectionError(
      'roll_store_failed',
      `Redis at ${settings.redis.host}:${settings.redis.port} is not reachable (is the stack up?)`,
      { cause: lastError ?? cause },
    );
  }
  try {
    await run(redis);
  } finally {
    await redis.quit();
  }
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof ElectionError || err instanceof ConfigError) {
    say(`election: ${err.message}`);
    process.exitCode = 1;
  } else if (
    err instanceof UsageError ||
    (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  ) {
    say(`election: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
