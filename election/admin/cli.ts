/**
 * `npm run admin -- …`: the commission's operations from an operator's
 * machine, and the admin service itself.
 *
 * An action is built here, signed with the operator's own key (`--key`, the
 * `operators/<id>.pem` made by `npm run election -- keys`; it never leaves this
 * machine), and POSTed to the admin API with the operator's staff token. A
 * 503 (the event may or may not be in the log) is retried with the same
 * signed event, which the API then answers as written or "repeated".
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { ConfigError, loadConfig } from '../../common/config.js';
import { type ElectionEventType, RECORD_VERSION, type UnsignedElectionEvent } from '../../common/records.js';
import { newEventId, signEvent } from '../election-events.js';
import { ElectionError } from '../errors.js';
import { readSigningKeyFile } from '../keys.js';
import { loadElection } from '../load.js';

const USAGE = `npm run admin -- <command> [options]

  serve                                   run the admin service (ADMIN_PORT; npm start runs it too)
  state     --token-file <f>              the election's state: phase, times, pause, candidates, last events

  open      --key <pem> --token-file <f> --reason "…"
  pause     --key <pem> --token-file <f> --reason "…" [--until ISO]   (until: when voters are told it resumes)
  resume    --key <pem> --token-file <f> --reason "…"
  extend    --key <pem> --token-file <f> --reason "…" --until ISO     (the new closing time)
  close     --key <pem> --token-file <f> --reason "…"
  withdraw  --key <pem> --token-file <f> --reason "…" --race R --candidate C
  remove    --key <pem> --token-file <f> --reason "…" --race R --candidate C --reference REF
  reinstate --key <pem> --token-file <f> --reason "…" --race R --candidate C
  declare   --key <pem> --token-file <f> --reason "…" [--reference REF]

  reports   --token-file <committee token> [--status open|investigating|upheld|dismissed]
  triage <R-XXXX-XXXX> --token-file <committee token> --status investigating|upheld|dismissed
            [--summary "…"] [--removal <candidate-removed event id>]

  --election <name|path>  default $ELECTION (sample)
  --key <pem>             the operator's private key (keys/<election>/operators/<id>.pem)
  --token-file <f>        a file holding the staff token (operator for actions; operator, observer or committee for state)
  --by <id>               the operator id (default: the token's subject)

ADMIN_URL (default http://127.0.0.1:$ADMIN_PORT) is where requests go.`;

const ACTIONS: Readonly<Record<string, ElectionEventType>> = {
  open: 'opened',
  pause: 'paused',
  resume: 'resumed',
  extend: 'extended',
  close: 'closed',
  withdraw: 'candidate-withdrawn',
  remove: 'candidate-removed',
  reinstate: 'candidate-reinstated',
  declare: 'declared',
};

const OPTIONS = {
  election: { type: 'string' },
  key: { type: 'string' },
  'token-file': { type: 'string' },
  by: { type: 'string' },
  reason: { type: 'string' },
  until: { type: 'string' },
  race: { type: 'string' },
  candidate: { type: 'string' },
  reference: { type: 'string' },
  status: { type: 'string' },
  summary: { type: 'string' },
  removal: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

/** Attempts of one signed event while the API answers 503. */
const ATTEMPTS = 3;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  const [command, target] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const settings = loadConfig(
    values.election === undefined ? process.env : { ...process.env, ELECTION: values.election },
  );
  if (command === 'serve') {
    // Loaded only here: an operator's command needs neither Kafka nor uWS.
    await (await import('./main.js')).serveAdmin(settings);
    return -1;
  }
  const token = await tokenOf(values);
  if (command === 'state') return request(`${settings.admin.url}/v1/admin/state`, token, null);
  if (command === 'reports') {
    const query = values.status === undefined ? '' : `?status=${encodeURIComponent(values.status)}`;
    return request(`${settings.admin.url}/v1/admin/reports${query}`, token, null);
  }
  if (command === 'triage') {
    if (target === undefined || values.status === undefined) {
      throw new UsageError('triage needs the tracking number and --status');
    }
    const body = {
      status: values.status,
      ...(values.summary === undefined ? {} : { summary: values.summary }),
      ...(values.removal === undefined ? {} : { removal: values.removal }),
    };
    return request(
      `${settings.admin.url}/v1/admin/reports/${encodeURIComponent(target)}/triage`,
      token,
      body,
    );
  }
  const type = ACTIONS[command];
  if (type === undefined) throw new UsageError(`unknown command "${command}"`);
  if (values.key === undefined) throw new UsageError(`${command} needs --key <operator's key file>`);
  const index = loadElection(settings.election);
  const by = values.by ?? String(decodeJwt(token).sub ?? '');
  const unsigned = eventOf(type, { election: index.id, by, values });
  const signed = signEvent(unsigned, (await readSigningKeyFile(values.key, index.id)).privateKey);
  let code = 1;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    code = await request(`${settings.admin.url}/v1/admin/events`, token, signed);
    if (code !== 503) break;
    if (attempt < ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
  }
  return code;
}

function eventOf(
  type: ElectionEventType,
  { election, by, values }: { election: string; by: string; values: Values },
): UnsignedElectionEvent {
  if (values.reason === undefined || values.reason.trim() === '') {
    throw new UsageError('--reason is required: it is what people are shown');
  }
  const candidate = type.startsWith('candidate-');
  if (candidate && (values.race === undefined || values.candidate === undefined)) {
    throw new UsageError(`${type} needs --race and --candidate`);
  }
  if (type === 'candidate-removed' && values.reference === undefined) {
    throw new UsageError('remove needs --reference (the decision it carries out)');
  }
  if (type === 'extended' && values.until === undefined)
    throw new UsageError('extend needs --until (the new closing time)');
  return {
    v: RECORD_VERSION,
    id: newEventId(),
    election,
    type,
    at: Date.now(),
    by,
    detail: values.reason,
    ...(candidate ? { race: values.race, candidate: values.candidate } : {}),
    ...((type === 'candidate-removed' || type === 'declared') && values.reference !== undefined
      ? { reference: values.reference }
      : {}),
    ...((type === 'paused' || type === 'extended') && values.until !== undefined
      ? { until: new Date(values.until).toISOString() }
      : {}),
  };
}

async function tokenOf(values: Values): Promise<string> {
  const file = values['token-file'];
  if (file === undefined) throw new UsageError('--token-file is required');
  const token = (await readFile(file, 'utf8')).trim();
  if (token === '') throw new UsageError(`${file} is empty`);
  return token;
}

/** Sends one request, prints the answer (JSON to stdout, an error line to stderr); returns the HTTP status, 0 for 2xx. */
async function request(url: string, token: string, body: object | null): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === null ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === null ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === null ? {} : { body: JSON.stringify(body) }),
    });
  } catch (cause) {
    process.stderr.write(`admin: cannot reach ${url}: ${(cause as Error).message}\n`);
    return 503;
  }
  const text = await res.text();
  if (res.ok) {
    process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    return 0;
  }
  let error = text;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    error = `${parsed.error?.code}: ${parsed.error?.message}`;
  } catch {
    // not JSON: print as is
  }
  process.stderr.write(`admin: ${res.status} ${error}\n`);
  return res.status;
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exitCode = code === 0 ? 0 : 1;
} catch (err) {
  if (err instanceof ElectionError || err instanceof ConfigError) {
    process.stderr.write(`admin: ${err.message}\n`);
    process.exitCode = 1;
  } else if (
    err instanceof UsageError ||
    (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  ) {
    process.stderr.write(`admin: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
