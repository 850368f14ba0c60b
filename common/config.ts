/**
 * The one place where settings come from the environment.
 *
 * Every option is declared once below with its default and documentation,
 * validated once at start-up (fail fast, naming the variable), frozen, and
 * handed down typed. No other module reads `process.env`.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { repoRoot } from './paths.js';

const Port = T.Integer({ minimum: 1, maximum: 65535 });
const Bool = T.Boolean();

/** Environment variables, by name. Each has a default; see `.env.example`. */
const EnvSchema = T.Object({
  /** Where the local stack keeps all its state. @default ".stack" */
  STACK_DIR: T.String({ minLength: 1, default: '.stack' }),
  /** Log level for pino. @default "info" */
  LOG_LEVEL: T.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => T.Literal(l)),
    { default: 'info' },
  ),

  /** Redis port on 127.0.0.1. @default 6379 */
  REDIS_PORT: T.Intersect([Port], { default: 6379 }),

  /** Comma-separated broker listener ports, one per broker. @default "9092,9093,9094" */
  KAFKA_PORTS: T.String({ pattern: '^\\d+(,\\d+)*$', default: '9092,9093,9094' }),
  /** First KRaft controller port; broker i uses base + i. @default 19092 */
  KAFKA_CONTROLLER_PORT_BASE: T.Intersect([Port], { default: 19092 }),
  /** JVM heap per broker in MiB (the design caps it at 512). @default 384 */
  KAFKA_HEAP_MB: T.Integer({ minimum: 128, maximum: 512, default: 384 }),
  /** Replication factor for every topic; 1 only in single-broker dev mode. @default 3 */
  KAFKA_REPLICATION_FACTOR: T.Integer({ minimum: 1, maximum: 3, default: 3 }),
  /** `min.insync.replicas` for every topic. @default 2 */
  KAFKA_MIN_INSYNC_REPLICAS: T.Integer({ minimum: 1, maximum: 3, default: 2 }),

  /** ClickHouse HTTP port. @default 8123 */
  CLICKHOUSE_HTTP_PORT: T.Intersect([Port], { default: 8123 }),
  /** ClickHouse native protocol port. @default 9000 */
  CLICKHOUSE_NATIVE_PORT: T.Intersect([Port], { default: 9000 }),
  /** ClickHouse inter-server port (unused by a single node, but it must not clash). @default 9009 */
  CLICKHOUSE_INTERSERVER_PORT: T.Intersect([Port], { default: 9009 }),
  /** Database that holds saylau's tables. @default "saylau" */
  CLICKHOUSE_DATABASE: T.String({ pattern: '^[a-z_][a-z0-9_]*$', default: 'saylau' }),

  /** Election config: a path, or the name of a file in `election/configs/`. @default "sample" */
  ELECTION: T.String({ minLength: 1, default: 'sample' }),
  /** Enables the dev identity provider (`/v1/dev/*`). Never in production. @default false */
  DEV_LOGIN: T.Intersect([Bool], { default: false }),
  /**
   * External identity provider the voter web client redirects to when `DEV_LOGIN` is off; it
   * sends the voter back to the client with `#token=<identity token>`. @default ""
   */
  IDENTITY_PROVIDER_URL: T.String({ pattern: '^(https?://\\S+)?$', default: '' }),
  /**
   * The member registry's token-verification public keys: a JWKS file path, or an http(s) URL that
   * ingest fetches at start (and again on an unknown key id). Set with `IDENTITY_ISSUER`. @default ""
   */
  IDENTITY_JWKS: T.String({ default: '' }),
  /** The `iss` of the member registry's identity tokens; required with `IDENTITY_JWKS`. @default "" */
  IDENTITY_ISSUER: T.String({ default: '' }),
  /** Ingest refuses an identity token issued (`iat`) longer ago than this, whatever its `exp`. @default 600 */
  IDENTITY_TOKEN_MAX_AGE_SEC: T.Integer({ minimum: 30, maximum: 86400, default: 600 }),
  /**
   * The same for staff tokens (officials, observers): one sign-in lasts a polling station's shift.
   * @default 50400 (14 h)
   */
  IDENTITY_STAFF_TOKEN_MAX_AGE_SEC: T.Integer({ minimum: 30, maximum: 86400, default: 50_400 }),

  /** Number of ingest processes sharing the ingest port (SO_REUSEPORT). @default cores */
  INGEST_PROCESSES: T.Integer({ minimum: 1, maximum: 64, default: availableParallelism() }),
  /** The ingest listen port shared by all ingest processes. @default 8080 */
  INGEST_PORT: T.Intersect([Port], { default: 8080 }),
  /** Extra ingest listen ports (comma-separated), to spread loopback clients. @default "" */
  INGEST_EXTRA_PORTS: T.String({ pattern: '^(\\d+(,\\d+)*)?$', default: '' }),
  /** Operations port (`/healthz`, `/readyz`, `/metrics`), shared by all ingest processes; 0 means INGEST_PORT + 1000. @default 0 */
  INGEST_OPS_PORT: T.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  /** In-flight request budget per ingest process before `503 overloaded`. @default 2000 */
  INGEST_MAX_IN_FLIGHT: T.Integer({ minimum: 1, default: 2000 }),
  /** Crypto worker threads per ingest process. @default 1 */
  INGEST_CRYPTO_THREADS: T.Integer({ minimum: 1, maximum: 32, default: 1 }),
  /** Blind-signing tasks that may wait for a crypto thread per ingest process; beyond it `503 overloaded`. @default 64 */
  INGEST_CRYPTO_MAX_QUEUE: T.Integer({ minimum: 1, maximum: 100000, default: 64 }),
  /** A request body must arrive whole within this long, else `400` and the connection closes. @default 10000 */
  INGEST_BODY_TIMEOUT_MS: T.Integer({ minimum: 100, maximum: 600000, default: 10000 }),
  /** Issuance requests per identity token (voter) per minute, per host. @default 6 */
  INGEST_ISSUE_TOKEN_PER_MIN: T.Integer({ minimum: 1, default: 6 }),
  /** Issuance requests one identity token may send at once before the per-minute rate applies. @default 5 */
  INGEST_ISSUE_TOKEN_BURST: T.Integer({ minimum: 1, default: 5 }),
  /** Issuance requests per source address per minute, per host; 0 turns the address limit off. @default 1200 */
  INGEST_ISSUE_ADDRESS_PER_MIN: T.Integer({ minimum: 0, default: 1200 }),
  /** Issuance requests one source address may send at once before the per-minute rate applies. @default 600 */
  INGEST_ISSUE_ADDRESS_BURST: T.Integer({ minimum: 1, default: 600 }),
  /** Paper check-ins per official per minute, per host (a station is one address: no address limit). @default 120 */
  INGEST_PAPER_OFFICIAL_PER_MIN: T.Integer({ minimum: 1, default: 120 }),
  /** Paper check-ins one official may send at once (a bulk import, an offline queue flushed) before the rate applies. @default 60 */
  INGEST_PAPER_OFFICIAL_BURST: T.Integer({ minimum: 1, default: 60 }),
  /** Dissent notes per observer per minute, per host: each is published with every snapshot. @default 10 */
  INGEST_PAPER_OBSERVER_PER_MIN: T.Integer({ minimum: 1, default: 10 }),
  /** Dissent notes one observer may send at once before the per-minute rate applies. @default 10 */
  INGEST_PAPER_OBSERVER_BURST: T.Integer({ minimum: 1, default: 10 }),
  /** Violation reports per sign-in (voter or staff token) per minute, per host. @default 2 */
  INGEST_REPORT_PER_MIN: T.Integer({ minimum: 1, default: 2 }),
  /** Violation reports one sign-in may file at once before the per-minute rate applies. @default 5 */
  INGEST_REPORT_BURST: T.Integer({ minimum: 1, default: 5 }),
  /** Kafka producer linger: how long a record that finds the producer idle, or arrives during a send, waits for others. @default 20 */
  INGEST_PRODUCE_LINGER_MS: T.Integer({ minimum: 0, maximum: 1000, default: 20 }),
  /** Kafka producer batch cap (records). @default 500 */
  INGEST_PRODUCE_MAX_BATCH: T.Integer({ minimum: 1, maximum: 10000, default: 500 }),
  /** How long a ballot or credential may take to be written to Kafka and read back before the request fails with 503. @default 10000 */
  INGEST_PRODUCE_TIMEOUT_MS: T.Integer({ minimum: 100, default: 10000 }),
  /** A dedup key claimed for a record that never reached the log expires after this long (a voter is never locked out). @default 60000 */
  INGEST_PENDING_TTL_MS: T.Integer({ minimum: 1000, default: 60000 }),
  /** Ballot mix: a district's ballots are held until this many have gathered (k), then shuffled and written together. @default 8 */
  INGEST_MIX_MIN_BALLOTS: T.Integer({ minimum: 1, maximum: 10000, default: 8 }),
  /** Ballot mix: the longest a ballot is held waiting for k (T); bounds cast latency. Must stay at most a quarter of INGEST_PRODUCE_TIMEOUT_MS. @default 1000 */
  INGEST_MIX_MAX_WAIT_MS: T.Integer({ minimum: 0, maximum: 60000, default: 1000 }),

  /** Publisher (results site) port; never shared with ingest. @default 8081 */
  PUBLISHER_PORT: T.Intersect([Port], { default: 8081 }),
  /** Publisher operations port (`/healthz`, `/readyz`, `/metrics`); 0 means PUBLISHER_PORT + 1000. @default 0 */
  PUBLISHER_OPS_PORT: T.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  /** Seconds between result snapshots; 0 means the election config decides. @default 0 */
  SNAPSHOT_INTERVAL: T.Integer({ minimum: 0, default: 0 }),
  /** Where snapshots and the live feed are written. @default "<STACK_DIR>/public" */
  PUBLIC_DIR: T.String({ default: '' }),

  /** Admin service (commission operations) port; never an ingest or publisher port. @default 8090 */
  ADMIN_PORT: T.Intersect([Port], { default: 8090 }),
  /** Admin operations port (`/healthz`, `/readyz`, `/metrics`); 0 means ADMIN_PORT + 1000. @default 0 */
  ADMIN_OPS_PORT: T.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  /** Where `npm run admin` sends its requests. @default "http://127.0.0.1:<ADMIN_PORT>" */
  ADMIN_URL: T.String({ default: '' }),
});

type Env = Static<typeof EnvSchema>;

/** Validated, derived, frozen settings. */
export interface Config {
  readonly stackDir: string;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly redis: { readonly host: string; readonly port: number };
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly brokerPorts: readonly number[];
    readonly controllerPortBase: number;
    readonly heapMb: number;
    readonly replicationFactor: number;
    readonly minInsyncReplicas: number;
  };
  readonly clickhouse: {
    readonly url: string;
    readonly httpPort: number;
    readonly nativePort: number;
    readonly interserverPort: number;
    readonly database: string;
  };
  readonly election: string;
  readonly devLogin: boolean;
  readonly identityProviderUrl: string;
  /** Who issues the identity tokens ingest accepts (besides the dev login when it is on). */
  readonly identity: {
    readonly jwks: string;
    readonly issuer: string;
    readonly maxTokenAgeSec: number;
    readonly maxStaffTokenAgeSec: number;
  };
  readonly ingest: {
    readonly processes: number;
    readonly port: number;
    readonly extraPorts: readonly number[];
    readonly opsPort: number;
    readonly maxInFlight: number;
    readonly cryptoThreads: number;
    readonly cryptoMaxQueue: number;
    readonly bodyTimeoutMs: number;
    readonly issueLimits: {
      readonly token: RateLimit;
      /** `null`: no address limit. */
      readonly address: RateLimit | null;
    };
    /** Paper check-ins per official (staff token `sub`). */
    readonly paperOfficialLimit: RateLimit;
    readonly paperObserverLimit: RateLimit;
    /** Violation reports per sign-in (voter hash or staff id). */
    readonly reportLimit: RateLimit;
    readonly produceLingerMs: number;
    readonly produceMaxBatch: number;
    readonly produceTimeoutMs: number;
    readonly pendingTtlMs: number;
    readonly mixMinBallots: number;
    readonly mixMaxWaitMs: number;
  };
  readonly publisher: {
    readonly port: number;
    readonly opsPort: number;
    readonly snapshotIntervalSec: number;
    readonly publicDir: string;
  };
  readonly admin: {
    readonly port: number;
    readonly opsPort: number;
    readonly url: string;
  };
}

/** A GCRA limit: `perMinute` sustained, up to `burst` at once. */
export interface RateLimit {
  readonly perMinute: number;
  readonly burst: number;
}

export class ConfigError extends Error {
  readonly code = 'SAYLAU_ERR_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true });
const validateEnv = ajv.compile<Env>(EnvSchema);

/** The produce timeout must be at least this many times the ballot mix's longest hold. */
const MIX_TIMEOUT_FACTOR = 4;

const numbers = (csv: string): number[] => (csv === '' ? [] : csv.split(',').map(Number));

/**
 * Reads and validates the environment. Throws {@link ConfigError} naming the
 * first bad variable. `overrides` lets tests and CLIs set values explicitly.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: Readonly<Record<string, string>> = {},
): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = overrides[key] ?? env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  if (typeof raw.DEV_LOGIN === 'string') raw.DEV_LOGIN = ['1', 'true', 'yes'].includes(raw.DEV_LOGIN);
  if (!validateEnv(raw)) {
    const first = validateEnv.errors?.[0];
    const variable = first?.instancePath.slice(1) || 'environment';
    throw new ConfigError(variable, `${first?.message ?? 'invalid'} (got ${JSON.stringify(raw[variable])})`);
  }
  const e = raw as Env;
  const stackDir = isAbsolute(e.STACK_DIR) ? e.STACK_DIR : resolve(repoRoot, e.STACK_DIR);
  const brokerPorts = numbers(e.KAFKA_PORTS);
  if (e.KAFKA_MIN_INSYNC_REPLICAS > e.KAFKA_REPLICATION_FACTOR) {
    throw new ConfigError('KAFKA_MIN_INSYNC_REPLICAS', 'must not exceed KAFKA_REPLICATION_FACTOR');
  }
  if (e.KAFKA_REPLICATION_FACTOR > brokerPorts.length) {
    throw new ConfigError('KAFKA_REPLICATION_FACTOR', `needs at least as many brokers in KAFKA_PORTS`);
  }
  // A held ballot's request budget also pays for the produce (half of it, record-log.ts) and the read-back.
  if (e.INGEST_MIX_MAX_WAIT_MS * MIX_TIMEOUT_FACTOR > e.INGEST_PRODUCE_TIMEOUT_MS) {
    throw new ConfigError(
      'INGEST_MIX_MAX_WAIT_MS',
      `must be at most INGEST_PRODUCE_TIMEOUT_MS / ${MIX_TIMEOUT_FACTOR} (${Math.floor(e.INGEST_PRODUCE_TIMEOUT_MS / MIX_TIMEOUT_FACTOR)} ms)`,
    );
  }
  if ((e.IDENTITY_JWKS === '') !== (e.IDENTITY_ISSUER === '')) {
    throw new ConfigError(
      e.IDENTITY_JWKS === '' ? 'IDENTITY_JWKS' : 'IDENTITY_ISSUER',
      'IDENTITY_JWKS and IDENTITY_ISSUER are set together',
    );
  }
  const ingestPorts = [e.INGEST_PORT, ...numbers(e.INGEST_EXTRA_PORTS)];
  const ingestOpsPort = e.INGEST_OPS_PORT === 0 ? e.INGEST_PORT + 1000 : e.INGEST_OPS_PORT;
  const publisherOpsPort = e.PUBLISHER_OPS_PORT === 0 ? e.PUBLISHER_PORT + 1000 : e.PUBLISHER_OPS_PORT;
  // Operations endpoints never share a public port (DESIGN §11).
  const publicPorts = [...ingestPorts, e.PUBLISHER_PORT];
  if (ingestOpsPort > 65535 || publicPorts.includes(ingestOpsPort)) {
    throw new ConfigError(
      'INGEST_OPS_PORT',
      `must be a free port apart from the public ones (got ${ingestOpsPort})`,
    );
  }
  if (
    publisherOpsPort > 65535 ||
    publicPorts.includes(publisherOpsPort) ||
    publisherOpsPort === ingestOpsPort
  ) {
    throw new ConfigError(
      'PUBLISHER_OPS_PORT',
      `must be a free port apart from the public and ingest ops ones (got ${publisherOpsPort})`,
    );
  }
  const adminOpsPort = e.ADMIN_OPS_PORT === 0 ? e.ADMIN_PORT + 1000 : e.ADMIN_OPS_PORT;
  // The admin API is never on a voting or results port (issue 16).
  if (publicPorts.includes(e.ADMIN_PORT)) {
    throw new ConfigError(
      'ADMIN_PORT',
      `must be apart from the ingest and publisher ports (got ${e.ADMIN_PORT})`,
    );
  }
  if (
    adminOpsPort > 65535 ||
    [...publicPorts, e.ADMIN_PORT, ingestOpsPort, publisherOpsPort].includes(adminOpsPort)
  ) {
    throw new ConfigError(
      'ADMIN_OPS_PORT',
      `must be a free port apart from the others (got ${adminOpsPort})`,
    );
  }
  const config: Config = {
    stackDir,
    logLevel: e.LOG_LEVEL,
    redis: { host: '127.0.0.1', port: e.REDIS_PORT },
    kafka: {
      brokers: brokerPorts.map((p) => `127.0.0.1:${p}`),
      brokerPorts,
      controllerPortBase: e.KAFKA_CONTROLLER_PORT_BASE,
      heapMb: e.KAFKA_HEAP_MB,
      replicationFactor: e.KAFKA_REPLICATION_FACTOR,
      minInsyncReplicas: e.KAFKA_MIN_INSYNC_REPLICAS,
    },
    clickhouse: {
      url: `http://127.0.0.1:${e.CLICKHOUSE_HTTP_PORT}`,
      httpPort: e.CLICKHOUSE_HTTP_PORT,
      nativePort: e.CLICKHOUSE_NATIVE_PORT,
      interserverPort: e.CLICKHOUSE_INTERSERVER_PORT,
      database: e.CLICKHOUSE_DATABASE,
    },
    election: e.ELECTION,
    devLogin: e.DEV_LOGIN,
    identityProviderUrl: e.IDENTITY_PROVIDER_URL,
    identity: {
      jwks:
        /^https?:\/\//.test(e.IDENTITY_JWKS) || e.IDENTITY_JWKS === ''
          ? e.IDENTITY_JWKS
          : resolve(repoRoot, e.IDENTITY_JWKS),
      issuer: e.IDENTITY_ISSUER,
      maxTokenAgeSec: e.IDENTITY_TOKEN_MAX_AGE_SEC,
      maxStaffTokenAgeSec: e.IDENTITY_STAFF_TOKEN_MAX_AGE_SEC,
    },
    ingest: {
      processes: e.INGEST_PROCESSES,
      port: e.INGEST_PORT,
      extraPorts: numbers(e.INGEST_EXTRA_PORTS),
      opsPort: ingestOpsPort,
      maxInFlight: e.INGEST_MAX_IN_FLIGHT,
      cryptoThreads: e.INGEST_CRYPTO_THREADS,
      cryptoMaxQueue: e.INGEST_CRYPTO_MAX_QUEUE,
      bodyTimeoutMs: e.INGEST_BODY_TIMEOUT_MS,
      issueLimits: {
        token: { perMinute: e.INGEST_ISSUE_TOKEN_PER_MIN, burst: e.INGEST_ISSUE_TOKEN_BURST },
        address:
          e.INGEST_ISSUE_ADDRESS_PER_MIN === 0
            ? null
            : { perMinute: e.INGEST_ISSUE_ADDRESS_PER_MIN, burst: e.INGEST_ISSUE_ADDRESS_BURST },
      },
      paperOfficialLimit: {
        perMinute: e.INGEST_PAPER_OFFICIAL_PER_MIN,
        burst: e.INGEST_PAPER_OFFICIAL_BURST,
      },
      paperObserverLimit: {
        perMinute: e.INGEST_PAPER_OBSERVER_PER_MIN,
        burst: e.INGEST_PAPER_OBSERVER_BURST,
      },
      reportLimit: { perMinute: e.INGEST_REPORT_PER_MIN, burst: e.INGEST_REPORT_BURST },
      produceLingerMs: e.INGEST_PRODUCE_LINGER_MS,
      produceMaxBatch: e.INGEST_PRODUCE_MAX_BATCH,
      produceTimeoutMs: e.INGEST_PRODUCE_TIMEOUT_MS,
      pendingTtlMs: e.INGEST_PENDING_TTL_MS,
      mixMinBallots: e.INGEST_MIX_MIN_BALLOTS,
      mixMaxWaitMs: e.INGEST_MIX_MAX_WAIT_MS,
    },
    publisher: {
      port: e.PUBLISHER_PORT,
      opsPort: publisherOpsPort,
      snapshotIntervalSec: e.SNAPSHOT_INTERVAL,
      publicDir: e.PUBLIC_DIR === '' ? join(stackDir, 'public') : resolve(repoRoot, e.PUBLIC_DIR),
    },
    admin: {
      port: e.ADMIN_PORT,
      opsPort: adminOpsPort,
      url: e.ADMIN_URL === '' ? `http://127.0.0.1:${e.ADMIN_PORT}` : e.ADMIN_URL.replace(/\/+$/, ''),
    },
  };
  return deepFreeze(config);
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Variable names and their documentation, for `.env.example` and `--help`. */
export const configVariables = Object.keys(EnvSchema.properties);
