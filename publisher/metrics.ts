/**
 * Prometheus metrics of the publisher process (`GET /metrics`). The alert
 * for a failed reconciliation is `saylau_publisher_reconcile_ok == 0` (or a
 * rising `saylau_publisher_snapshot_failures_total{code="reconcile_failed"}`);
 * a stalled publisher shows as an old `saylau_publisher_last_snapshot_seconds`.
 * `saylau_publisher_ballot_conflicts` above 0 means a second ballot slipped
 * into the log under some credential: counted once (first record wins), but
 * ingest let it through, so someone should look.
 * No label carries anything about a voter or a ballot.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export class PublisherMetrics {
  readonly registry = new Registry();
  readonly published = new Counter({
    name: 'saylau_publisher_snapshots_published_total',
    help: 'Snapshots signed and written',
    registers: [this.registry],
  });
  readonly failures = new Counter({
    name: 'saylau_publisher_snapshot_failures_total',
    help: 'Snapshot attempts that published nothing, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly reconcileOk = new Gauge({
    name: 'saylau_publisher_reconcile_ok',
    help: '1 if the last reconciliation passed, 0 if it failed (alert on 0)',
    registers: [this.registry],
  });
  readonly conflicts = new Gauge({
    name: 'saylau_publisher_ballot_conflicts',
    help: 'BallotIds with a second, different ballot in the log at the last reconciliation (each counted once, as its first record)',
    registers: [this.registry],
  });
  readonly lastSeq = new Gauge({
    name: 'saylau_publisher_last_snapshot_seq',
    help: 'Sequence number of the newest published snapshot',
    registers: [this.registry],
  });
  readonly lastSnapshot = new Gauge({
    name: 'saylau_publisher_last_snapshot_seconds',
    help: 'Unix time the newest snapshot was taken',
    registers: [this.registry],
  });
  readonly liveUpdates = new Counter({
    name: 'saylau_publisher_live_updates_total',
    help: 'live.json refreshes, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly observers = new Gauge({
    name: 'saylau_publisher_observers',
    help: "Open sockets on the observers' feed (/v1/observe/feed), signed in or not yet",
    registers: [this.registry],
  });
  readonly observerAuth = new Counter({
    name: 'saylau_publisher_observer_auth_total',
    help: "Observers' feed sign-ins, by outcome: ok or the refusal code (unauthorized, token_wrong_role, token_expired, …)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly observerPushes = new Counter({
    name: 'saylau_publisher_observer_pushes_total',
    help: "Views pushed to the observers' feed (one serialisation each, whatever the number of observers)",
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'saylau_site_requests_total',
    help: 'Results-site responses, by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.reconcileOk.set(1);
  }
}
