/**
 * `/healthz` (the process answers), `/readyz` (it can take votes: Redis,
 * Kafka, keys loaded, not draining) and `/metrics` (prom-client).
 */
import type { IngestContext } from '../context.js';
import { json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';

const HEALTHY = json('200 OK', { status: 'ok' });

export function healthRoutes(ctx: IngestContext): RouteSpec[] {
  const { dedup, records, lifecycle, metrics, crypto } = ctx;

  async function ready(): Promise<Reply> {
    const redis = await dedup.ping().catch(() => false);
    const checks = {
      redis,
      kafka: records.ready,
      keys: lifecycle.keysLoaded,
      draining: lifecycle.draining,
    };
    const ok = checks.redis && checks.kafka && checks.keys && !checks.draining;
    return json(ok ? '200 OK' : '503 Service Unavailable', { status: ok ? 'ready' : 'not_ready', checks });
  }

  async function scrape(): Promise<Reply> {
    metrics.poolQueue.set(crypto.queueDepth);
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
