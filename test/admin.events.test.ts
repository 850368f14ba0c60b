/**
 * The admin service on the real stack (issue 16): every commission action,
 * through the real CLI or over HTTP, lands in `election-events` partition 0
 * with its operator, its reason and a valid signature; each refusal has its
 * code (bad signature, wrong role per endpoint, voter token, stale, invalid
 * transitions, id taken, repeated); and the admin API is not on the voting
 * port. One tiny election, one admin process, one ingest process.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../common/config.js';
import { LogReader } from '../common/kafka/log-reader.js';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import {
  ELECTION_EVENTS_PARTITION,
  type ElectionEventRecord,
  TOPICS,
  type UnsignedElectionEvent,
} from '../common/records.js';
import {
  type ElectionIndex,
  type ElectionKeys,
  eventSignatureProblem,
  issueDevStaffToken,
  issueDevToken,
  listSampleMembers,
  loadElection,
  newEventId,
  operatorKeyPath,
  readKeys,
  readLogStart,
  readOperatorKeys,
  signEvent,
} from '../election/index.js';
import {
  api,
  forgetElection,
  type Ingest,
  initElection,
  outputDir,
  startIngest,
  type Wire,
} from './ingest.harness.js';
import { testPort } from './support/ports.js';

const run = promisify(execFile);
const ADMIN_PORT = testPort(18_760);
const ADMIN_OPS_PORT = testPort(18_761);
const INGEST_PORT = testPort(18_762);
const ADMIN = `http://127.0.0.1:${ADMIN_PORT}`;

const config: Config = loadConfig();
const id = `admin-${Date.now().toString(36)}`;
let path: string;
let index: ElectionIndex;
let keys: ElectionKeys;
let admin: ChildProcess;
let adminOutput = '';
let ingest: Ingest;
const tokens: Record<string, string> = {};
const tokenFiles: Record<string, string> = {};
/** Every event the service accepted (201), by id. */
const written = new Map<string, { type: string; by: string; detail: string }>();

beforeAll(async () => {
  mkdirSync(outputDir, { recursive: true });
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  path = join(outputDir, `${id}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      ...tiny,
      id,
      sampleRoll: { seed: id, size: 200 },
      operators: [
        { id: 'OP-1', name: 'Commission chair' },
        { id: 'OP-2', name: 'Commission secretary' },
      ],
      committee: [{ id: 'CC-1', name: 'Control committee chair' }],
    }),
  );
  await initElection(path);
  index = loadElection(path);
  keys = await readKeys(config.stackDir, id);
  const staff = async (
    role: 'operator' | 'observer' | 'committee' | 'official',
    sub: string,
    precinct?: string,
  ) => issueDevStaffToken(keys, index, { role, id: sub, ...(precinct === undefined ? {} : { precinct }) });
  const member = listSampleMembers(index, 0, 1)[0]!;
  Object.assign(tokens, {
    op1: await staff('operator', 'OP-1'),
    op2: await staff('operator', 'OP-2'),
    op9: await staff('operator', 'OP-9'),
    observer: await staff('observer', 'proxy-7'),
    committee: await staff('committee', 'CC-1'),
    official: await staff('official', 'O-71-1-a', 'P-71-1'),
    voter: await issueDevToken(keys, index, member.memberId),
  });
  for (const [name, token] of Object.entries(tokens)) {
    tokenFiles[name] = join(outputDir, `${id}.${name}.token`);
    writeFileSync(tokenFiles[name], token, { mode: 0o600 });
  }
  const env = {
    ...process.env,
    ELECTION: path,
    ADMIN_PORT: String(ADMIN_PORT),
    ADMIN_OPS_PORT: String(ADMIN_OPS_PORT),
    DEV_LOGIN: '1',
    LOG_LEVEL: 'warn',
  };
  admin = spawn(process.execPath, ['--import', 'tsx', 'election/admin/cli.ts', 'serve'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  admin.stdout?.on('data', (d) => (adminOutput += d));
  admin.stderr?.on('data', (d) => (adminOutput += d));
  const [started] = await Promise.all([
    waitReady(`http://127.0.0.1:${ADMIN_OPS_PORT}/readyz`, admin),
    startIngest({ election: path, port: INGEST_PORT }).then((i) => (ingest = i)),
  ]);
  expect(started).toBe(true);
}, 180_000);

afterAll(async () => {
  if (admin !== undefined && admin.exitCode === null) {
    admin.kill('SIGKILL');
  }
  await ingest?.stop();
  await forgetElection(config, id);
});

async function waitReady(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`admin exited during start:\n${adminOutput}`);
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`admin not ready in 90 s:\n${adminOutput}`);
}

/** `npm run admin -- <args>` as an operator runs it; resolves with exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'election/admin/cli.ts', ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ELECTION: path, ADMIN_URL: ADMIN, LOG_LEVEL: 'warn' },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const keyOf = (operator: string) => operatorKeyPath(config.stackDir, id, operator);

async function cliAction(action: string, operator: 'op1' | 'op2', ...args: string[]): Promise<Wire> {
  const result = await cli(
    action,
    '--key',
    keyOf(operator === 'op1' ? 'OP-1' : 'OP-2'),
    '--token-file',
    tokenFiles[operator]!,
    ...args,
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

function event(
  type: ElectionEventRecord['type'],
  extra: Partial<UnsignedElectionEvent> = {},
): UnsignedElectionEvent {
  return {
    v: 1,
    id: newEventId(),
    election: id,
    type,
    at: Date.now(),
    by: 'OP-1',
    detail: `test ${type}`,
    ...extra,
  };
}

const signed = (e: UnsignedElectionEvent, operator = e.by) =>
  signEvent(e, keys.operators.get(operator)!.privateKey);

async function post(record: unknown, token = tokens.op1!): Promise<{ status: number; body: Wire }> {
  const res = await api(ADMIN, 'POST', '/v1/admin/events', record, { authorization: `Bearer ${token}` });
  if (res.status === 201) {
    const r = record as ElectionEventRecord;
    written.set(r.id, { type: r.type, by: r.by, detail: r.detail });
  }
  return res;
}

function remember(result: Wire, type: string, by: string, detail: string): void {
  written.set(result.id, { type, by, detail });
}

const state = async (token = tokens.op1!) =>
  api(ADMIN, 'GET', '/v1/admin/state', undefined, { authorization: `Bearer ${token}` });

describe('admin events', () => {
  it('pause and resume through the CLI; the same transition again is refused with its code', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const paused = await cliAction(
      'pause',
      'op1',
      '--reason',
      'Power cut at the data centre',
      '--until',
      until,
    );
    expect(paused).toMatchObject({
      id: expect.stringMatching(/^E-[A-Z2-7]{10}$/),
      offset: expect.any(Number),
    });
    remember(paused, 'paused', 'OP-1', 'Power cut at the data centre');
    const now = (await state()).body;
    expect(now).toMatchObject({
      phase: 'paused',
      pause: { reason: 'Power cut at the data centre', until, by: 'OP-1' },
    });

    expect(await post(signed(event('paused')))).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_already_paused' } },
    });
    const resumed = await post(signed(event('resumed', { by: 'OP-2', detail: 'Power is back' })), tokens.op2);
    expect(resumed.status).toBe(201);
    expect(await post(signed(event('resumed')))).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_not_paused' } },
    });
    expect((await state(tokens.observer)).body.phase).toBe('open');
  });

  it('candidate removal, withdrawal and reinstatement; unknown candidates and no-change refused', async () => {
    const removed = await cliAction(
      'remove',
      'op1',
      '--reason',
      'Deregistered for vote buying',
      '--race',
      'R-NAT',
      '--candidate',
      'C-NAT-01',
      '--reference',
      'CEC-2020/117',
    );
    remember(removed, 'candidate-removed', 'OP-1', 'Deregistered for vote buying');
    const c = { race: 'R-NAT', candidate: 'C-NAT-01', reference: 'again' };
    expect(await post(signed(event('candidate-removed', c)))).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_status_unchanged' } },
    });
    expect(
      await post(signed(event('candidate-withdrawn', { race: 'R-NAT', candidate: 'C-XX' }))),
    ).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_unknown_candidate' } },
    });
    const w = { race: 'R-71-1', candidate: 'C-71-1-02' };
    expect((await post(signed(event('candidate-withdrawn', w)))).status).toBe(201);
    expect((await post(signed(event('candidate-reinstated', w)))).status).toBe(201);
    const s = (await state(tokens.committee)).body;
    expect(s.candidates).toEqual(
      expect.arrayContaining([{ race: 'R-NAT', candidate: 'C-NAT-01', status: 'removed' }]),
    );
    expect(s.candidates).not.toContainEqual(expect.objectContaining({ candidate: 'C-71-1-02' }));
  });

  it('violation reports: filed on the voting port, listed and triaged by the committee only, status public by number', async () => {
    const filed = await api(
      ingest.base,
      'POST',
      '/v1/reports',
      { election: id, category: 'vote-buying', region: 'KZ-71', text: 'Money offered for votes at the gate' },
      { authorization: `Bearer ${tokens.voter}` },
    );
    expect(filed.status).toBe(201);
    const tracking: string = filed.body.tracking;
    const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
    for (const who of ['observer', 'op1', 'voter'])
      expect(await api(ADMIN, 'GET', '/v1/admin/reports', undefined, as(who)), who).toMatchObject({
        status: 403,
        body: { error: { code: 'token_wrong_role' } },
      });
    const listed = await api(ADMIN, 'GET', '/v1/admin/reports?status=open', undefined, as('committee'));
    expect(listed.status).toBe(200);
    expect(listed.body.reports).toContainEqual(
      expect.objectContaining({ tracking, text: 'Money offered for votes at the gate' }),
    );
    const triage = (body: object, who = 'committee') =>
      api(ADMIN, 'POST', `/v1/admin/reports/${tracking}/triage`, body, as(who));
    expect(await triage({ status: 'investigating' }, 'op1')).toMatchObject({
      status: 403,
      body: { error: { code: 'token_wrong_role' } },
    });
    const investigating = await cli(
      'triage',
      tracking,
      '--token-file',
      tokenFiles.committee!,
      '--status',
      'investigating',
    );
    expect(investigating).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(investigating.stdout).triage).toMatchObject({ status: 'investigating', by: 'CC-1' });
    const removal = [...written].find(([, e]) => e.type === 'candidate-removed')![0];
    expect((await triage({ status: 'upheld', summary: 'Confirmed by two witnesses', removal })).status).toBe(
      201,
    );
    const upheld = await cli('reports', '--token-file', tokenFiles.committee!, '--status', 'upheld');
    expect(upheld.code).toBe(0);
    expect(JSON.parse(upheld.stdout).reports).toContainEqual(
      expect.objectContaining({ tracking, status: 'upheld' }),
    );
    const seen = await api(ADMIN, 'GET', `/v1/admin/reports/${tracking}`);
    expect(seen).toMatchObject({
      status: 200,
      body: { status: 'upheld', summary: 'Confirmed by two witnesses' },
    });
    expect(JSON.stringify(seen.body)).not.toContain('Money offered');
    expect(await api(ADMIN, 'GET', '/v1/admin/reports/R-0000-0000')).toMatchObject({
      status: 404,
      body: { error: { code: 'admin_report_not_found' } },
    });
  });

  it('extend must move the closing later; declare only after close', async () => {
    expect(await post(signed(event('extended', { until: '2099-06-01T00:00:00.000Z' })))).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_not_later' } },
    });
    expect((await post(signed(event('extended', { until: '2100-01-01T00:00:00.000Z' })))).status).toBe(201);
    expect((await state()).body.closes).toBe('2100-01-01T00:00:00.000Z');
    expect(await post(signed(event('declared')))).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_not_closed' } },
    });
  });

  it('the same event again is repeated; the same id with other content is taken', async () => {
    const e = signed(event('opened', { detail: 'Opened by the chair' }));
    const first = await post(e);
    expect(first.status).toBe(201);
    expect(await post(e)).toMatchObject({
      status: 200,
      body: { id: e.id, offset: first.body.offset, status: 'repeated' },
    });
    const other = signed({ ...event('opened'), id: e.id, detail: 'Opened again' });
    expect(await post(other)).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_event_id_taken' } },
    });
  });

  it('refuses a bad signature, another signer, a stale time and a malformed event', async () => {
    const e = signed(event('paused', { detail: 'Maintenance' }));
    expect(await post({ ...e, detail: 'Something else' })).toMatchObject({
      status: 400,
      body: { error: { code: 'admin_signature_invalid' } },
    });
    expect(await post(signed(event('paused'), 'OP-2'))).toMatchObject({
      status: 400,
      body: { error: { code: 'admin_signature_invalid' } },
    });
    expect(await post(e, tokens.op2)).toMatchObject({
      status: 403,
      body: { error: { code: 'admin_not_signer' } },
    });
    expect(await post(signed(event('paused', { at: Date.now() - 10 * 60_000 })))).toMatchObject({
      status: 422,
      body: { error: { code: 'admin_stale_event' } },
    });
    expect(await post(signed(event('paused', { detail: '' })))).toMatchObject({
      status: 400,
      body: { error: { code: 'admin_event_invalid' } },
    });
    expect(
      await post(signed(event('candidate-removed', { race: 'R-NAT', candidate: 'C-NAT-02' }))),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'admin_event_invalid' } },
    });
    expect(await post('not json')).toMatchObject({
      status: 400,
      body: { error: { code: 'admin_bad_request' } },
    });
    expect((await state()).body.phase).toBe('open');
  });

  it('each endpoint refuses the wrong role with token_wrong_role, a missing token with unauthorized', async () => {
    const e = signed(event('paused'));
    for (const who of ['observer', 'committee', 'official', 'voter', 'op9'] as const) {
      expect(await post(e, tokens[who]), who).toMatchObject({
        status: 403,
        body: { error: { code: 'token_wrong_role' } },
      });
    }
    for (const who of ['official', 'voter', 'op9'] as const) {
      expect(await state(tokens[who]), who).toMatchObject({
        status: 403,
        body: { error: { code: 'token_wrong_role' } },
      });
    }
    for (const who of ['op1', 'observer', 'committee'] as const)
      expect((await state(tokens[who])).status).toBe(200);
    expect(await api(ADMIN, 'GET', '/v1/admin/state')).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });
    expect(await post(e, 'not-a-token')).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });
  });

  it('the admin API is not on the voting port', async () => {
    for (const [method, route] of [
      ['POST', '/v1/admin/events'],
      ['GET', '/v1/admin/state'],
    ] as const) {
      const res = await api(
        ingest.base,
        method,
        route,
        method === 'POST' ? signed(event('paused')) : undefined,
        {
          authorization: `Bearer ${tokens.op1}`,
        },
      );
      expect(res.status, route).toBe(404);
    }
  });

  it('close, then only a declaration: pause and open are refused', async () => {
    remember(
      await cliAction('close', 'op2', '--reason', 'Voting time is over'),
      'closed',
      'OP-2',
      'Voting time is over',
    );
    expect(await post(signed(event('paused')))).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_not_open' } },
    });
    expect(await post(signed(event('opened')))).toMatchObject({
      status: 409,
      body: { error: { code: 'admin_election_already_closed' } },
    });
    const declared = await cliAction(
      'declare',
      'op1',
      '--reason',
      'Result declared by the commission',
      '--reference',
      'PROT-1',
    );
    remember(declared, 'declared', 'OP-1', 'Result declared by the commission');
    const out = await cli('state', '--token-file', tokenFiles.observer!);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ phase: 'closed', head: declared.id });
  });

  it('every accepted action is in election-events/0 with its operator, reason and a valid signature, once', async () => {
    const operatorKeys = await readOperatorKeys(config.stackDir, id);
    const from =
      (await readLogStart(config.stackDir, id)).get(
        `${TOPICS.electionEvents}/${ELECTION_EVENTS_PARTITION}`,
      ) ?? 0;
    const reader = new LogReader({
      brokers: config.kafka.brokers,
      clientId: 'admin-test',
      log: createLogger('admin-test', 'warn'),
    });
    const found: ElectionEventRecord[] = [];
    try {
      const ends = await reader.endOffsets([TOPICS.electionEvents]);
      const to = new Map([[`${TOPICS.electionEvents}/0`, ends.get(`${TOPICS.electionEvents}/0`)!]]);
      await reader.readRange(
        new Map([[`${TOPICS.electionEvents}/0`, from]]),
        to,
        (batch) => {
          for (const r of batch.records) {
            const e = JSON.parse(r.value!.toString()) as ElectionEventRecord;
            if (e.election === id) found.push(e);
          }
        },
        30_000,
      );
    } finally {
      await reader.close();
    }
    expect(written.size).toBe(9);
    expect(found.map((e) => e.id).sort()).toEqual([...written.keys()].sort());
    for (const e of found) {
      expect(e).toMatchObject(written.get(e.id)!);
      expect(eventSignatureProblem(operatorKeys, e)).toBeNull();
    }
    const metrics = await api(`http://127.0.0.1:${ADMIN_OPS_PORT}`, 'GET', '/metrics');
    expect(metrics.body).toContain('saylau_admin_events_written_total');
  });

  it('stops gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => admin.once('exit', (code) => resolve(code)));
    admin.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
