/**
 * The admin service: the commission's API, on its own port (never a voting
 * or results port), and its operations port.
 *
 *   ADMIN_PORT       POST /v1/admin/events               operator: a signed event → election-events (acks=all, read back)
 *                    GET  /v1/admin/state                operator, observer, committee: phase, times, pause, candidates, events
 *                    GET  /v1/admin/reports?status=      committee: violation reports with their texts (reports.ts)
 *                    POST /v1/admin/reports/{id}/triage  committee: a triage → reports topic (acks=all, read back)
 *                    GET  /v1/admin/reports/{id}         anyone with the tracking number: status and public summary
 *   ADMIN_OPS_PORT   /healthz /readyz /metrics
 *
 * Every request carries a staff token (`authorization: Bearer …`, the same
 * issuers and codes as ingest); each endpoint names the roles it serves and
 * answers any other `403 token_wrong_role`, a voter token included.
 *
 * Events are handled one at a time: check (signature, time, transition) →
 * write → wait until this service's follower has read it back. So the state
 * a check sees is the state the previous event left, and two operators cannot
 * both pause an open election.
 */

import type { Logger } from '../../common/log.js';
import { type ElectionEventRecord, eventSignedBytes, type ReportStatus } from '../../common/records.js';
import {
  type HttpRequest,
  type HttpResponse,
  type ListenSocket,
  loadUws,
  type TemplatedApp,
} from '../../common/uws.js';
import { type ElectionEventsFollower, eventSignatureProblem } from '../election-events.js';
import { applyEvent, eventShapeProblem, isRefusal } from '../election-state.js';
import { isElectionError } from '../errors.js';
import type { StaffClaims, StaffRole, StaffTokenVerifier } from '../identity.js';
import type { OperatorKeys } from '../keys.js';
import type { ElectionIndex } from '../load.js';
import { AdminError, isAdminErrorCode } from './errors.js';
import type { EventLog, WriteOutcome } from './event-log.js';
import { type Answer, answerOf, bearerToken, readJsonBody, sendJson } from './http.js';
import type { AdminMetrics } from './metrics.js';
import {
  committeeView,
  isReportRefusal,
  publicView,
  REPORT_REFUSALS,
  removalIn,
  type TriageRequest,
} from './reports.js';
import type { ReportsBook } from './reports-book.js';
import { stateView } from './state-view.js';

const REPORT_STATUSES: ReadonlySet<string> = new Set(['open', 'investigating', 'upheld', 'dismissed']);

/** An event's `at` may be this far from the service's clock (a CLI signs it just before sending). */
export const EVENT_MAX_SKEW_MS = 5 * 60_000;

export interface AdminServiceOptions {
  readonly index: ElectionIndex;
  readonly port: number;
  readonly opsPort: number;
  readonly host?: string;
  readonly verifyStaff: StaffTokenVerifier;
  readonly operatorKeys: OperatorKeys;
  readonly follower: ElectionEventsFollower;
  readonly events: EventLog;
  /** Violation reports (the committee's triage); null: the reports routes are not served. */
  readonly reports: ReportsBook | null;
  readonly metrics: AdminMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

type Handler = (
  claims: StaffClaims | null,
  body: Record<string, unknown> | null,
  params: Readonly<Record<string, string>>,
) => Promise<[number, unknown]>;

interface Route {
  readonly name: string;
  /** The roles served; null: no token needed (a report's public status, by its tracking number). */
  readonly roles: readonly StaffRole[] | null;
  readonly handler: Handler;
}

export class AdminService {
  readonly #o: AdminServiceOptions;
  readonly #now: () => number;
  #listen: ListenSocket[] = [];
  #port = 0;
  #opsPort = 0;
  /** The tail of the one-at-a-time queue of event writes. */
  #queue: Promise<unknown> = Promise.resolve();
  #ready = false;

  constructor(options: AdminServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get port(): number {
    return this.#port;
  }

  get opsPort(): number {
    return this.#opsPort;
  }

  async listen(): Promise<number> {
    const app = loadUws().App();
    this.#route(app, 'post', '/v1/admin/events', {
      name: 'events',
      roles: ['operator'],
      handler: (claims, body) => this.#serialized(() => this.#postEvent(claims!, body!)),
    });
    this.#route(app, 'get', '/v1/admin/state', {
      name: 'state',
      roles: ['operator', 'observer', 'committee'],
      handler: async () => [200, stateView(this.#o.index, this.#o.follower, this.#now())],
    });
    const reports = this.#o.reports;
    if (reports !== null) {
      this.#route(app, 'get', '/v1/admin/reports', {
        name: 'reports',
        roles: ['committee'],
        handler: async (_claims, _body, params) => {
          const status = params.status || undefined;
          if (status !== undefined && !REPORT_STATUSES.has(status)) {
            throw new AdminError(
              'admin_bad_request',
              `status must be one of ${[...REPORT_STATUSES].join(', ')}`,
            );
          }
          await reports.current();
          return [200, { reports: reports.list(status as ReportStatus | undefined).map(committeeView) }];
        },
      });
      this.#route(app, 'post', '/v1/admin/reports/:id/triage', {
        name: 'triage',
        roles: ['committee'],
        handler: async (claims, body, params) => {
          const decided = await reports.triage(
            params.id ?? '',
            body as unknown as TriageRequest,
            claims!.id,
            this.#o.events,
            removalIn(this.#o.follower.state()),
            this.#now(),
          );
          if (isReportRefusal(decided)) throw new AdminError(decided.refused, decided.message);
          return decided.outcome === 'created'
            ? [201, { triage: decided.record }]
            : [200, { triage: decided.record, status: 'repeated' }];
        },
      });
      this.#route(app, 'get', '/v1/admin/reports/:id', {
        name: 'report',
        roles: null,
        handler: async (_claims, _body, params) => {
          await reports.current();
          const entry = reports.get(params.id ?? '');
          if (entry === undefined)
            throw new AdminError('admin_report_not_found', REPORT_REFUSALS.admin_report_not_found.message);
          return [200, publicView(entry)];
        },
      });
    }
    app.any('/*', (res) => {
      this.#o.metrics.requests.inc({ route: 'other', code: 'admin_not_found' });
      sendJson(answerOf(res), 404, { error: { code: 'admin_not_found', message: 'no such endpoint' } });
    });
    this.#port = await this.#bind(app, this.#o.port);
    this.#opsPort = await this.#bind(this.#opsApp(), this.#o.opsPort);
    this.#ready = true;
    return this.#port;
  }

  /** Stops accepting connections; requests under way finish. */
  close(): Promise<unknown> {
    this.#ready = false;
    for (const token of this.#listen) loadUws().us_listen_socket_close(token);
    this.#listen = [];
    return this.#queue;
  }

  #route(app: TemplatedApp, method: 'get' | 'post', path: string, route: Route): void {
    app[method](path, (res: HttpResponse, req: HttpRequest) => {
      const token = bearerToken(req.getHeader('authorization'));
      const params: Record<string, string> = {
        status: req.getQuery('status') ?? '',
        ...(path.includes(':id') ? { id: req.getParameter(0) ?? '' } : {}),
      };
      const answer = answerOf(res);
      // The body must be taken now (uWS streams it right after the handler returns).
      const body = method === 'post' ? readJsonBody(answer) : Promise.resolve(null);
      body.catch(() => undefined);
      void this.#handle(route, token, answer, body, params);
    });
  }

  async #handle(
    route: Route,
    token: string,
    answer: Answer,
    body: Promise<Record<string, unknown> | null>,
    params: Readonly<Record<string, string>>,
  ): Promise<void> {
    let status: number;
    let payload: unknown;
    let code: string;
    try {
      const claims = route.roles === null ? null : await this.#authorize(token, route.roles);
      [status, payload] = await route.handler(claims, await body, params);
      code = (payload as { status?: string }).status === 'repeated' ? 'repeated' : 'ok';
    } catch (error) {
      const e = asAdminError(error);
      if (e.status >= 500) this.#o.logger.error({ err: error, route: route.name, code: e.code }, e.message);
      status = e.status;
      code = e.code;
      payload = { error: { code: e.code, message: e.message } };
    }
    this.#o.metrics.requests.inc({ route: route.name, code });
    sendJson(answer, status, payload);
  }

  async #authorize(token: string, roles: readonly StaffRole[]): Promise<StaffClaims> {
    if (token === '')
      throw new AdminError('unauthorized', 'a staff token is required (authorization: Bearer …)');
    const claims = await this.#o.verifyStaff(token);
    if (!roles.includes(claims.role)) {
      throw new AdminError(
        'token_wrong_role',
        `this endpoint is for ${roles.join(', ')}; the token is ${claims.role}'s`,
      );
    }
    return claims;
  }

  /** Runs `work` after every event write before it has finished. */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #postEvent(claims: StaffClaims, body: Record<string, unknown>): Promise<[number, unknown]> {
    const { index, follower } = this.#o;
    const record = body as unknown as ElectionEventRecord;
    const shape = eventShapeProblem(index, record);
    if (shape !== null) throw new AdminError('admin_event_invalid', shape);
    if (record.by !== claims.id) {
      throw new AdminError(
        'admin_not_signer',
        `the event is signed by ${record.by}; the token is ${claims.id}'s`,
      );
    }
    const unknownFields = Object.keys(body).filter((k) => !EVENT_FIELDS.has(k));
    if (unknownFields.length > 0)
      throw new AdminError('admin_event_invalid', `unknown fields: ${unknownFields.join(', ')}`);
    const signature = eventSignatureProblem(this.#o.operatorKeys, record);
    if (signature !== null) throw new AdminError('admin_signature_invalid', signature);

    const state = follower.state();
    const earlier = state.events.find((e) => e.id === record.id);
    if (earlier !== undefined) {
      const same =
        earlier.signature === record.signature && eventSignedBytes(earlier).equals(eventSignedBytes(record));
      if (!same)
        throw new AdminError(
          'admin_event_id_taken',
          `event ${record.id} is already in the log with other content`,
        );
      return [200, { id: record.id, offset: follower.offsetOf(record.id), status: 'repeated' }];
    }
    const now = this.#now();
    if (Math.abs(record.at - now) > EVENT_MAX_SKEW_MS) {
      throw new AdminError(
        'admin_stale_event',
        `at is ${Math.round((record.at - now) / 1000)} s from now; sign it again`,
      );
    }
    const next = applyEvent(state, index, record);
    if (isRefusal(next)) {
      const code = `admin_${next.refused}`;
      throw new AdminError(isAdminErrorCode(code) ? code : 'admin_event_invalid', next.message);
    }
    let outcome: WriteOutcome;
    try {
      outcome = await this.#o.events.write(record);
    } catch (cause) {
      throw new AdminError(
        'admin_unavailable',
        'the event may or may not be in the log: send the same signed event again',
        { cause },
      );
    }
    if (!outcome.applied) {
      throw new AdminError(
        'admin_unavailable',
        `event ${record.id} is in the log but was not applied; see the service log`,
      );
    }
    this.#o.metrics.written.inc({ type: record.type });
    this.#o.logger.info(
      { id: record.id, type: record.type, by: record.by, offset: outcome.offset },
      'election event written',
    );
    return [201, { id: record.id, offset: outcome.offset }];
  }

  #opsApp(): TemplatedApp {
    const ops = loadUws().App();
    ops.get('/healthz', (res) => {
      res.writeHeader('Cache-Control', 'no-store').end('ok\n');
    });
    ops.get('/readyz', (res) => {
      const ok = this.#ready && this.#o.follower.problem === null;
      res
        .writeStatus(ok ? '200 OK' : '503 Service Unavailable')
        .writeHeader('Cache-Control', 'no-store')
        .end(ok ? 'ready\n' : 'not ready\n');
    });
    ops.get('/metrics', (res) => {
      const answer = answerOf(res);
      void this.#o.metrics.registry.metrics().then((text) => {
        if (answer.aborted) return;
        res.cork(() => {
          res.writeHeader('Content-Type', this.#o.metrics.registry.contentType).end(text);
        });
      });
    });
    ops.any('/*', (res) => {
      res.writeStatus('404 Not Found').end('not found\n');
    });
    return ops;
  }

  #bind(app: TemplatedApp, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      app.listen(this.#o.host ?? '0.0.0.0', port, (token) => {
        if (!token) {
          reject(new Error(`cannot listen on port ${port}`));
          return;
        }
        this.#listen.push(token);
        resolve(loadUws().us_socket_local_port(token as never));
      });
    });
  }
}

/** The fields of an event record (common/records.ts): anything else is refused, not silently signed over. */
const EVENT_FIELDS: ReadonlySet<string> = new Set([
  'v',
  'id',
  'election',
  'type',
  'at',
  'by',
  'detail',
  'race',
  'candidate',
  'reference',
  'until',
  'signature',
]);

/** Token refusals keep their shared codes; anything unexpected is a 503 (logged once by the caller). */
function asAdminError(error: unknown): AdminError {
  if (error instanceof AdminError) return error;
  if (isElectionError(error) && isAdminErrorCode(error.code))
    return new AdminError(error.code, error.message);
  return new AdminError('admin_unavailable', 'the admin service could not answer; try again', {
    cause: error,
  });
}
