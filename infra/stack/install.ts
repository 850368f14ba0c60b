/**
 * Installs what the local stack runs when it is missing: Debian packages
 * through apt-get and the Kafka jars through Maven. Nothing else is fetched
 * from anywhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../common/paths.js';

/** Debian packages the stack and its tests need, by the binary that proves each. */
const DEBIAN_PACKAGES: ReadonlyArray<readonly [pkg: string, binary: string]> = [
  ['redis-server', '/usr/bin/redis-server'],
  ['redis-tools', '/usr/bin/redis-cli'],
  ['clickhouse-server', '/usr/sbin/clickhouse-server'],
  ['clickhouse-client', '/usr/bin/clickhouse-client'],
  ['kcat', '/usr/bin/kcat'],
];

const POLICY_RC = '/usr/sbin/policy-rc.d';

function log(message: string): void {
  process.stderr.write(`[stack] ${message}\n`);
}

function aptGet(args: readonly string[]): void {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'apt-get' : 'sudo';
  const argv = asRoot ? [...args] : ['-n', 'apt-get', ...args];
  execFileSync(command, argv, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Installs missing Debian packages. The packages' own init scripts must not
 * start system-wide Redis/ClickHouse on our ports, so a temporary
 * policy-rc.d forbids service starts during the install (the Debian way).
 */
export function ensureDebianPackages(): void {
  const missing = DEBIAN_PACKAGES.filter(([, binary]) => !existsSync(binary)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    try {
      aptGet(['install', '-y', '--no-install-recommends', ...missing]);
    } catch {
      aptGet(['update']);
      aptGet(['install', '-y', '--no-install-recommends', ...missing]);
    }
  } finally {
    if (ownPolicy) rmSync(POLICY_RC, { force: true });
  }
}

/** The broker jar that proves the Maven copy is complete. */
export function kafkaJarPresent(libsDir: string): boolean {
  return existsSync(libsDir) && readdirSync(libsDir).some((f) => /^kafka_2\.13-3\.9\.\d+\.jar$/.test(f));
}

/** Copies the Kafka jars named in infra/pom.xml into `libsDir` with Maven. */
export function ensureKafkaJars(libsDir: string): void {
  if (kafkaJarPresent(libsDir)) return;
  log('fetching Apache Kafka jars with Maven (first run only)…');
  mkdirSync(libsDir, { recursive: true });
  const result = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      join(repoRoot, 'infra', 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libsDir}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0 || !kafkaJarPresent(libsDir)) {
    throw new Error(`Maven could not fetch the Kafka jars (exit ${result.status}); see the output above`);
  }
}
