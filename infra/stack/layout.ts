/**
 * Where the local stack keeps its state. Everything lives under one folder
 * (`STACK_DIR`, default `.stack/`, git-ignored):
 *
 *   .stack/
 *     run/<service>.pid        pid of each process `up` started
 *     logs/<service>.log       its stdout/stderr
 *     redis/                   redis.conf (no data files: Redis keeps none)
 *     kafka/libs/              jars copied by Maven (kept by `reset`)
 *     kafka/cluster-id         KRaft cluster id, made once
 *     kafka/broker-<n>/        server.properties, log4j.properties, data/
 *     clickhouse/              config.xml, users.xml, data/
 *     keys/, public/           election keys and published files (other folders)
 *     reconcile/               reconcile's checkpoints (aggregator/reconcile-checkpoint.ts)
 */
import { join } from 'node:path';
import type { Config } from '../../common/config.js';

export interface StackLayout {
  readonly root: string;
  readonly runDir: string;
  readonly logDir: string;
  readonly redisDir: string;
  readonly kafkaDir: string;
  readonly kafkaLibs: string;
  readonly clickhouseDir: string;
  pidFile(service: string): string;
  logFile(service: string): string;
  brokerDir(index: number): string;
}

export function stackLayout(config: Config): StackLayout {
  const root = config.stackDir;
  const runDir = join(root, 'run');
  const logDir = join(root, 'logs');
  const kafkaDir = join(root, 'kafka');
  return {
    root,
    runDir,
    logDir,
    redisDir: join(root, 'redis'),
    kafkaDir,
    kafkaLibs: join(kafkaDir, 'libs'),
    clickhouseDir: join(root, 'clickhouse'),
    pidFile: (service) => join(runDir, `${service}.pid`),
    logFile: (service) => join(logDir, `${service}.log`),
    brokerDir: (index) => join(kafkaDir, `broker-${index}`),
  };
}
