/**
 * The paper channel's command line: `npm run paper -- <command> [options]`.
 *
 *   check-in  a station's check-in list, sent by one official (bulk-check-in.ts)
 *   protocol  a precinct protocol, signed with the station key and submitted (protocol.ts)
 *
 * Each line's outcome goes to stdout in file order (`<line>\t<member id>\t<outcome>\t<detail>`),
 * the summary to stderr. Exit 0 when every line is checked_in or repeated,
 * 1 when any was refused or not sent, 2 on a usage error.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../../common/config.js';
import { ElectionError, loadElection } from '../../election/index.js';
import { bulkCheckIn, type LineResult, parseMemberList, SUCCESS } from './bulk-check-in.js';
import { PROTOCOL_USAGE, protocolCommand } from './protocol.js';

const USAGE = `usage: npm run paper -- check-in --token-file <file> --file <list.txt|list.csv> [options]

  --election <name|path>   the election (default $ELECTION)
  --token-file <file>      the official's identity token (npm run election -- staff-token … in a demo)
  --file <file>            member ids, one per line, or a CSV whose first column is the member id
  --url <url>              ingest's voting URL (default http://127.0.0.1:$INGEST_PORT)
  --concurrency <n>        requests in flight at once (default 8)

Safe to run again: members this precinct already checked in are reported "repeated".

${PROTOCOL_USAGE}`;

const OPTIONS = {
  election: { type: 'string' },
  'token-file': { type: 'string' },
  file: { type: 'string' },
  url: { type: 'string' },
  concurrency: { type: 'string', default: '8' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

class UsageError extends Error {}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  // Its own options (protocol.ts): dispatched before this command's are parsed.
  if (argv[0] === 'protocol') {
    return protocolCommand(argv.slice(1), `http://127.0.0.1:${loadConfig().ingest.port}`);
  }
  const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    say(USAGE);
    return 0;
  }
  if (command !== 'check-in') throw new UsageError(`unknown command "${command}"`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (values['token-file'] === undefined) throw new UsageError('--token-file is required');
  if (values.file === undefined) throw new UsageError('--file is required');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError('--concurrency must be an integer in 1..64');
  }
  const settings = loadConfig();
  const election = loadElection(values.election ?? settings.election);
  const token = (await readFile(values['token-file'], 'utf8')).trim();
  const lines = parseMemberList(await readFile(values.file, 'utf8'));
  const url = (values.url ?? `http://127.0.0.1:${settings.ingest.port}`).replace(/\/+$/, '');

  const counts = new Map<string, number>();
  const print = (r: LineResult): void => {
    counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    process.stdout.write(`${r.line}\t${r.memberId}\t${r.outcome}\t${r.detail}\n`);
  };
  await bulkCheckIn(lines, {
    url,
    election: election.id,
    token,
    concurrency,
    maxAttempts: 20,
    onResult: print,
  });

  const summary = [...counts].map(([outcome, n]) => `${outcome} ${n}`).join(', ');
  say(`paper: ${lines.length} lines — ${summary || 'nothing to send'}`);
  return [...counts.keys()].every((outcome) => SUCCESS.has(outcome)) ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof ElectionError || err instanceof ConfigError) {
    say(`paper: ${err.message}`);
    process.exitCode = 1;
  } else if (
    err instanceof UsageError ||
    (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
    (err as { code?: string }).code === 'ENOENT'
  ) {
    say(`paper: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
