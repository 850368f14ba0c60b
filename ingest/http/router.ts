/**
 * Route wiring: the one place that applies the uWS handler contract (STYLE 15)
 * to every route, so route modules are plain async functions from an
 * {@link Exchange} to a {@link Reply}.
 *
 *   request ─► copy params/headers ─► onAborted ─► body (≤ 8 KiB, within the body
 *           timeout) ─► admission ─► handle() ─► respond (corked, back-pressured) ─► metrics
 *
 * The body is read before an admission slot is taken: a client that sends its
 * body slowly (slowloris) holds a connection and at most 8 KiB until the body
 * timeout, never a slot, so it cannot shed other voters' requests.
 */
import type { Logger } from 'pino';
import { loggableError } from '../../common/log.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../common/uws.js';
import { type Admission, jitteredRetryAfter } from '../admission.js';
import {
  ERROR_BODIES,
  ERROR_CODES,
  ERROR_TABLE,
  type ErrorCode,
  errorBody,
  isIngestError,
} from '../errors.js';
import type { IngestMetrics } from '../metrics.js';
import {
  BODY_TIMEOUT_MESSAGE,
  type BodyDeadlines,
  declaredLength,
  MAX_BODY_BYTES,
  readBody,
} from './body.js';
import { Exchange, type Headers, type Reply } from './exchange.js';
import { padJson } from './fixed-length.js';
import { NOT_MODIFIED, respond, respondWithoutBody } from './respond.js';

export interface RouteSpec {
  /** Metrics label and log context: a fixed name, never the URL. */
  readonly name: string;
  readonly method: 'get' | 'post';
  readonly pattern: string;
  /** How many `:param`s to copy. */
  readonly params: number;
  readonly body: boolean;
  /** Reads the `authorization` header. */
  readonly auth: boolean;
  /** Reads the TCP peer's address (issuance limits). */
  readonly address?: boolean;
  /**
   * A fixed representation: reads `if-none-match` and `accept-encoding`
   * (the handler negotiates, common/static-files/), answers HEAD too, and
   * sends a 304 or a HEAD without a body.
   */
  readonly conditional: boolean;
  /** Counts against the in-flight budget (and is shed when it is spent). */
  readonly admission: boolean;
  /** Every answer, including errors, padded to this many bytes; `null` for natural size. */
  readonly padTo: number | null;
  readonly handle: (ex: Exchange) => Promise<Reply> | Reply;
}

interface RouterDeps {
  readonly admission: Admission;
  /** True once SIGTERM arrived: keep-alive connections must not start new work. */
  readonly draining: () => boolean;
  readonly metrics: IngestMetrics;
  readonly log: Logger;
  /** A body must arrive whole by its deadline. */
  readonly bodyDeadlines: BodyDeadlines;
}

type ErrorBodies = { readonly [C in ErrorCode]: Buffer };

function paddedErrorBodies(size: number): ErrorBodies {
  return Object.fromEntries(
    ERROR_CODES.map((code) => [code, padJson({ error: { code, message: ERROR_TABLE[code].message } }, size)]),
  ) as ErrorBodies;
}

const PAUSED_RETRY_AFTER = '30';

/** `Retry-After` for the retriable codes; jittered so shed clients spread out. */
function retryHeaders(code: ErrorCode, retryAfterSec?: number): Headers {
  if (code === 'rate_limited') {
    const wait = Math.max(1, retryAfterSec ?? 1);
    return [['retry-after', jitteredRetryAfter(wait, wait + 1)]];
  }
  if (code === 'overloaded') return [['retry-after', jitteredRetryAfter(1, 5)]];
  if (code === 'unavailable') return [['retry-after', jitteredRetryAfter(1, 3)]];
  // A pause lasts minutes: the client asks again in 30 s (and reads the status endpoint meanwhile).
  if (code === 'election_paused') return [['retry-after', PAUSED_RETRY_AFTER]];
  return null;
}

export class Router {
  private readonly padded = new Map<number, ErrorBodies>();

  constructor(
    private readonly app: TemplatedApp,
    private readonly deps: RouterDeps,
  ) {}

  add(spec: RouteSpec): this {
    const errorBodies: ErrorBodies = spec.padTo === null ? ERROR_BODIES : this.paddedFor(spec.padTo);
    const handler = (res: HttpResponse, req: HttpRequest): void => this.enter(spec, errorBodies, res, req);
    if (spec.method === 'get') this.app.get(spec.pattern, handler);
    else this.app.post(spec.pattern, handler);
    if (spec.method === 'get' && spec.conditional) this.app.head(spec.pattern, handler);
    return this;
  }

  private paddedFor(size: number): ErrorBodies {
    let bodies = this.padded.get(size);
    if (bodies === undefined) {
      bodies = paddedErrorBodies(size);
      this.padded.set(size, bodies);
    }
    return bodies;
  }

  /** The synchronous part: everything read from `req` is read here. */
  private enter(spec: RouteSpec, errors: ErrorBodies, res: HttpResponse, req: HttpRequest): void {
    const ex = new Exchange(res, spec.name, spec.padTo);
    for (let i = 0; i < spec.params; i++) ex.params.push(req.getParameter(i) ?? '');
    ex.query = req.getQuery() ?? '';
    if (spec.auth) ex.authorization = req.getHeader('authorization');
    if (spec.conditional) {
      ex.ifNoneMatch = req.getHeader('if-none-match');
      ex.acceptEncoding = req.getHeader('accept-encoding');
      ex.head = req.getCaseSensitiveMethod() === 'HEAD';
    }
    if (spec.address === true) ex.address = Buffer.from(res.getRemoteAddressAsText()).toString();
    const contentLength = spec.body ? req.getHeader('content-length') : '';
    res.onAborted(() => {
      ex.aborted = true;
      // While a handler runs it keeps its slot until its work (a produce) ends.
      if (!ex.handling) this.finish(ex);
    });

    if (!spec.body) {
      this.admitAndRun(spec, errors, ex);
      return;
    }
    let declared: number;
    try {
      declared = declaredLength(contentLength, MAX_BODY_BYTES);
    } catch (error) {
      this.refuse(ex, errors, error, true);
      return;
    }
    readBody(res, declared, MAX_BODY_BYTES, this.deps.bodyDeadlines).then(
      (body) => {
        ex.body = body;
        this.admitAndRun(spec, errors, ex);
      },
      (error: unknown) => {
        if (isIngestError(error) && error.message === BODY_TIMEOUT_MESSAGE)
          this.deps.metrics.bodyTimeouts.inc();
        this.refuse(ex, errors, error, true);
      },
    );
  }

  /** Takes an admission slot (when the route counts against the budget), then runs the handler. */
  private admitAndRun(spec: RouteSpec, errors: ErrorBodies, ex: Exchange): void {
    if (ex.aborted) {
      this.finish(ex);
      return;
    }
    if (spec.admission) {
      if (this.deps.draining()) {
        this.fail(ex, errors, 'unavailable', true);
        return;
      }
      if (!this.deps.admission.tryEnter()) {
        this.deps.metrics.shed.inc();
        this.fail(ex, errors, 'overloaded', false);
        return;
      }
      ex.admitted = true;
      this.deps.metrics.inFlight.inc();
    }
    this.run(spec, errors, ex);
  }

  private run(spec: RouteSpec, errors: ErrorBodies, ex: Exchange): void {
    if (ex.aborted) {
      this.finish(ex);
      return;
    }
    ex.handling = true;
    let pending: Promise<Reply> | Reply;
    try {
      pending = spec.handle(ex);
    } catch (error) {
      this.refuse(ex, errors, error, false);
      return;
    }
    if (pending instanceof Promise) {
      pending.then(
        (reply) => this.reply(ex, reply),
        (error: unknown) => this.refuse(ex, errors, error, false),
      );
    } else {
      this.reply(ex, pending);
    }
  }

  private reply(ex: Exchange, reply: Reply): void {
    if (ex.head || reply.status === NOT_MODIFIED) respondWithoutBody(ex, reply);
    else respond(ex, reply.status, reply.body, reply.headers, false, reply.contentType);
    this.finish(ex);
  }

  private refuse(ex: Exchange, errors: ErrorBodies, error: unknown, midBody: boolean): void {
    if (isIngestError(error)) {
      const code = error.code;
      if (error.message === ERROR_TABLE[code].message) {
        this.fail(ex, errors, code, midBody, error.retryAfterSec);
        return;
      }
      // A specific message (which field, which race): serialised for this answer, still fixed-length.
      respond(
        ex,
        ERROR_TABLE[code].status,
        this.bodyWithMessage(ex, errors, code, error.message),
        retryHeaders(code, error.retryAfterSec),
        midBody,
      );
      this.finish(ex);
      return;
    }
    // An unexpected failure: logged once with its cause, answered as retriable.
    this.deps.log.error(
      { err: loggableError(error), route: ex.route, code: 'SAYLAU_ERR_INTERNAL' },
      'request failed',
    );
    this.fail(ex, errors, 'unavailable', false);
  }

  private bodyWithMessage(ex: Exchange, errors: ErrorBodies, code: ErrorCode, message: string): Buffer {
    if (ex.padTo === null) return errorBody(code, message);
    try {
      return padJson({ error: { code, message } }, ex.padTo);
    } catch {
      // Too long to pad: the catalogue message keeps the answer's length fixed.
      return errors[code];
    }
  }

  private fail(
    ex: Exchange,
    errors: ErrorBodies,
    code: ErrorCode,
    closeConnection: boolean,
    retryAfterSec?: number,
  ): void {
    respond(ex, ERROR_TABLE[code].status, errors[code], retryHeaders(code, retryAfterSec), closeConnection);
    this.finish(ex);
  }

  /** Releases the admission slot and records metrics, exactly once per exchange. */
  private finish(ex: Exchange): void {
    if (ex.finished) return;
    ex.finished = true;
    if (ex.admitted) {
      ex.admitted = false;
      this.deps.admission.leave();
      this.deps.metrics.inFlight.dec();
    }
    // 499: the client went away before an answer (nginx's convention).
    this.deps.metrics.observe(ex.route, ex.status === '' ? '499' : ex.status, ex.startedAt);
  }
}
