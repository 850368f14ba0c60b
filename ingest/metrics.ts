/**
 * Prometheus metrics for one ingest process (`GET /metrics` on the
 * operations port, INGEST_OPS_PORT).
 *
 * Labels are route names, status codes, topics and command names only: never
 * anything about a voter or a ballot (DESIGN §1.3). The host's processes
 * share the operations port as they share the voting port (SO_REUSEPORT), so
 * each scrape is answered by one process, the one the kernel picked for the
 * connection: its own counters, with no process label. A scrape is a sample
 * of one process, not the host's total; whole-host figures come from the
 * voting side (load-test reports) or from scraping each process in turn.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MixInfo } from './ledger/mix.js';
import type { SendInfo } from './ledger/record-log.js';

/** Latency buckets in seconds, from 0.5 ms to 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class IngestMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'saylau_http_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'saylau_http_request_duration_seconds',
    help: 'Time from request to response, by route',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'saylau_http_in_flight',
    help: 'Requests admitted and not yet answered',
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'saylau_admission_shed_total',
    help: 'Requests refused with 503 overloaded by admission control',
    registers: [this.registry],
  });
  readonly produceBatch = new Histogram({
    name: 'saylau_kafka_produce_batch_size',
    help: 'Records per Kafka produce call',
    labelNames: ['topic'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [this.registry],
  });
  readonly produceLatency = new Histogram({
    name: 'saylau_kafka_produce_duration_seconds',
    help: 'Kafka produce call latency (acks=all)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly produceErrors = new Counter({
    name: 'saylau_kafka_produce_errors_total',
    help: 'Kafka produce calls that failed (some records may still have been written)',
    registers: [this.registry],
  });
  readonly mixBatch = new Histogram({
    name: 'saylau_mix_batch_size',
    help: "Ballots per ballot-mix batch (one district's), by what released it: k (enough ballots), t (the first waited INGEST_MIX_MAX_WAIT_MS), shutdown",
    labelNames: ['closed_by'] as const,
    buckets: [1, 2, 3, 5, 8, 13, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly mixHold = new Histogram({
    name: 'saylau_mix_hold_seconds',
    help: "How long each ballot-mix batch's first ballot was held (the batch's gathering time)",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly ledgerVerdicts = new Counter({
    name: 'saylau_ledger_writes_total',
    help: 'Ledger writes by what the log said: first, same, conflict, unsent, unknown',
    labelNames: ['topic', 'verdict'] as const,
    registers: [this.registry],
  });
  readonly ledgerAlarms = new Gauge({
    name: 'saylau_ledger_alarms',
    help: "The host ledger's alarms since it started: unverified_acks (an ack whose offset did not hold the record), unconfirmed (not read back in time), rebuilds (regions rebuilt from Kafka)",
    labelNames: ['alarm'] as const,
    registers: [this.registry],
  });
  readonly ledgerRebuilding = new Gauge({
    name: 'saylau_ledger_regions_rebuilding',
    help: 'Regions whose Redis index is being rebuilt from Kafka (writes there answer 503 rebuilding)',
    registers: [this.registry],
  });
  readonly ledgerFollowerUp = new Gauge({
    name: 'saylau_ledger_follower_up',
    help: '1 while the ledger follower keeps the Redis index up with Kafka; 0 when it stopped, stalled on offsets outside the log, or log-start is outside the log (/readyz ledger.follower says why; writes cannot be confirmed)',
    registers: [this.registry],
  });
  readonly redisLatency = new Histogram({
    name: 'saylau_redis_command_duration_seconds',
    help: 'Redis command latency, by operation',
    labelNames: ['op'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly poolQueue = new Gauge({
    name: 'saylau_crypto_pool_queue_depth',
    help: 'Tasks waiting for a crypto worker thread',
    registers: [this.registry],
  });
  readonly blindSigns = new Counter({
    name: 'saylau_crypto_blind_signs_total',
    help: 'RSA blind-signing operations started (private-key operations)',
    registers: [this.registry],
  });
  readonly cryptoQueueFull = new Counter({
    name: 'saylau_crypto_queue_full_total',
    help: 'Blind-signing tasks refused with 503 overloaded because the crypto queue was full',
    registers: [this.registry],
  });
  readonly signatureReuse = new Counter({
    name: 'saylau_credentials_signature_cache_total',
    help: 'Issuance requests by what the signature cache had: hit (an identical retry answered without signing), miss; put_failed (not stored)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'saylau_rate_limited_total',
    help: 'Issuance requests refused with 429 rate_limited, by limit: token (one voter), address (one source address), official (paper check-ins of one official), observer (dissent notes of one observer) or report (violation reports of one sign-in)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly paperCheckIns = new Counter({
    name: 'saylau_paper_check_ins_total',
    help: 'Paper check-ins answered, by outcome: checked_in, repeated (the same station again), or the refusal code (already_issued_online, already_checked_in, not_eligible, precinct_closed, …)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly reports = new Counter({
    name: 'saylau_reports_total',
    help: 'Violation reports answered, by outcome: filed, or the refusal code (report_invalid, rate_limited, unauthorized, …), and by who filed (voter or the staff role; none when refused before sign-in)',
    labelNames: ['outcome', 'filed_as'] as const,
    registers: [this.registry],
  });
  readonly bodyTimeouts = new Counter({
    name: 'saylau_http_body_timeouts_total',
    help: 'Requests whose body did not arrive within INGEST_BODY_TIMEOUT_MS (answered 400, connection closed)',
    registers: [this.registry],
  });
  readonly sessions = new Gauge({
    name: 'saylau_sessions_open',
    help: 'Open WebSocket session channels',
    registers: [this.registry],
  });
  readonly electionEvents = new Counter({
    name: 'saylau_election_events_total',
    help: "The commission's events this worker read: applied, or skipped (unreadable, invalid, signature, a refused transition; logged by the follower)",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records one answered request. `status` is the status line ("201 Created"). */
  observe(route: string, status: string, startedAt: number): void {
    this.requests.inc({ route, status: status.slice(0, 3) });
    this.latency.observe({ route }, (performance.now() - startedAt) / 1000);
  }

  /** Records one settled Kafka send. */
  observeSend(info: SendInfo): void {
    this.produceLatency.observe(info.latencySec);
    for (const [topic, size] of info.sizes) this.produceBatch.observe({ topic }, size);
    if (!info.ok) this.produceErrors.inc();
  }

  /** Records one released ballot-mix batch. */
  observeMix(info: MixInfo): void {
    this.mixBatch.observe({ closed_by: info.closedBy }, info.size);
    this.mixHold.observe(info.holdSec);
  }

  /** Samples a Redis operation's latency. */
  redis(op: string, startedAt: number): void {
    this.redisLatency.observe({ op }, (performance.now() - startedAt) / 1000);
  }
}
