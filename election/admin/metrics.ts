/**
 * Prometheus metrics of the admin service (`GET /metrics` on ADMIN_OPS_PORT).
 * `saylau_admin_events_skipped_total` above 0 means an event in
 * `election-events` failed its signature or its transition: every reader
 * skips it, someone should look at who wrote it.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export class AdminMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'saylau_admin_requests_total',
    help: 'Admin API requests by route and answer code (ok, repeated or the error code)',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });
  readonly written = new Counter({
    name: 'saylau_admin_events_written_total',
    help: 'Election events written to Kafka and confirmed, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'saylau_admin_events_skipped_total',
    help: 'Events in election-events the follower skipped (unreadable, invalid, signature, transition:<code>)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly head = new Gauge({
    name: 'saylau_admin_events_applied',
    help: 'Election events applied to the state this service holds',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'saylau_admin_' });
  }
}
