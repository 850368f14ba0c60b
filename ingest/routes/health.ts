/**
 * `/healthz` (the process answers), `/readyz` (it can take votes: Redis,
 * Kafka, keys loaded, the ledger's index complete and its follower reading,
 * the commission's event stream read to its end once,
 * not draining — with the ledger's alarms as detail) and `/metrics` (prom-client).
 */
import type { IngestContext } from '../context.js';
import { json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';

const HEALTHY = json('200 OK', { status: 'ok' });

export function healthRoutes(ctx: IngestContext): RouteSpec[] {
  const { index, sink, lifecycle, metrics, crypto, live } = ctx;

  async function ready(): Promise<Reply> {
    const redis = await index.ping().catch(() => false);
    const { kafka, rebuilding, follower, alarms } = sink.state;
    const checks = {
      redis,
      kafka,
      keys: lifecycle.keysLoaded,
      index: rebuilding.length === 0,
      // A follower that does not read confirms no write: every one would time out.
      follower: follower === null,
      draining: lifecycle.draining,
      // The commission's stream read to its end once: until then a pause or a removal is unknown.
      events: live.caughtUp,
    };
    const ok =
      checks.redis &&
      checks.kafka &&
      checks.keys &&
      checks.index &&
      checks.follower &&
      checks.events &&
      !checks.draining;
    return json(ok ? '200 OK' : '503 Service Unavailable', {
      status: ok ? 'ready' : 'not_ready',
      checks,
      ledger: { rebuilding, follower, alarms },
    });
  }

  async function scrape(): Promise<Reply> {
    metrics.poolQueue.set(crypto.queueDepth);
    const { rebuilding, follower, alarms } = sink.state;
    metrics.ledgerRebuilding.set(rebuilding.length);
    metrics.ledgerFollowerUp.set(follower === null ? 1 : 0);
    metrics.ledgerAlarms.set({ alarm: 'unverified_acks' }, alarms.unverifiedAcks);
    metrics.ledgerAlarms.set({ alarm: 'unconfirmed' }, alarms.unconfirmed);
    metrics.ledgerAlarms.set({ alarm: 'rebuilds' }, alarms.rebuilds);
    const text = await metrics.registry.metrics();
    return {
      status: '200 OK',
      contentType: metrics.registry.contentType,
      body: Buffer.from(text),
      headers: null,
    };
  }

  const base = {
    method: 'get',
    params: 0,
    body: false,
    auth: false,
    conditional: false,
    admission: false,
    padTo: null,
  } as const;
  return [
    { ...base, name: 'healthz', pattern: '/healthz', handle: () => HEALTHY },
    { ...base, name: 'readyz', pattern: '/readyz', handle: ready },
    { ...base, name: 'metrics', pattern: '/metrics', handle: scrape },
  ];
}
