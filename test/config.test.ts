import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, loadConfig } from '../common/config.js';

describe('configuration from the environment', () => {
  it('has defaults for everything and derives the stack endpoints', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094']);
    expect(config.kafka.replicationFactor).toBe(3);
    expect(config.kafka.minInsyncReplicas).toBe(2);
    expect(config.redis.port).toBe(6379);
    expect(config.clickhouse.url).toBe('http://127.0.0.1:8123');
    expect(config.devLogin).toBe(false);
    expect(Object.isFrozen(config.kafka)).toBe(true);
  });

  it.each([
    ['REDIS_PORT', 'not-a-port'],
    ['KAFKA_HEAP_MB', '4096'],
    ['INGEST_PENDING_TTL_MS', '10'],
    ['KAFKA_PORTS', '9092;9093'],
    ['CLICKHOUSE_DATABASE', 'Robert); DROP'],
  ])('fails fast naming %s when it is bad', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrowError(new RegExp(`^${variable}: `));
  });

  it('refuses a min ISR above the replication factor', () => {
    expect(() => loadConfig({ KAFKA_REPLICATION_FACTOR: '1' })).toThrowError(/^KAFKA_MIN_INSYNC_REPLICAS/);
  });

  it('refuses a ballot mix wait that would eat the produce timeout (T at most a quarter of it)', () => {
    expect(loadConfig({ INGEST_MIX_MAX_WAIT_MS: '2500' }).ingest.mixMaxWaitMs).toBe(2500);
    expect(() => loadConfig({ INGEST_MIX_MAX_WAIT_MS: '2501' })).toThrowError(
      /^INGEST_MIX_MAX_WAIT_MS: must be at most INGEST_PRODUCE_TIMEOUT_MS \/ 4 \(2500 ms\)/,
    );
    expect(
      loadConfig({ INGEST_MIX_MAX_WAIT_MS: '5000', INGEST_PRODUCE_TIMEOUT_MS: '20000' }).ingest.mixMaxWaitMs,
    ).toBe(5000);
  });

  it('takes the identity issuer as JWKS and iss together, a JWKS file relative to the repo', () => {
    expect(() => loadConfig({ IDENTITY_JWKS: 'https://registry.example/jwks' })).toThrowError(
      /^IDENTITY_ISSUER: /,
    );
    expect(() => loadConfig({ IDENTITY_ISSUER: 'https://registry.example' })).toThrowError(
      /^IDENTITY_JWKS: /,
    );
    const remote = loadConfig({ IDENTITY_JWKS: 'https://registry.example/jwks', IDENTITY_ISSUER: 'r' });
    expect(remote.identity).toEqual({
      jwks: 'https://registry.example/jwks',
      issuer: 'r',
      maxTokenAgeSec: 600,
      maxStaffTokenAgeSec: 50_400,
    });
    expect(loadConfig({ IDENTITY_JWKS: 'keys/jwks.json', IDENTITY_ISSUER: 'r' }).identity.jwks).toMatch(
      /^\/.*\/keys\/jwks\.json$/,
    );
    expect(() => loadConfig({ IDENTITY_TOKEN_MAX_AGE_SEC: '5' })).toThrowError(
      /^IDENTITY_TOKEN_MAX_AGE_SEC: /,
    );
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
    expect(configVariables.filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !configVariables.includes(v!))).toEqual([]);
  });
});
