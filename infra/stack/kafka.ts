/**
 * Apache Kafka 3.9 in KRaft mode: three nodes, each broker and controller
 * at once (combined mode), so any one may die and the quorum and every
 * partition (RF 3, min.insync.replicas 2) stay writable.
 */

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import type { StackLayout } from './layout.js';
import { tcpExchange } from './probe.js';
import type { StackService } from './service.js';

/**
 * KRaft wants a base64url-encoded 16-byte UUID; made once per stack. Like
 * Kafka's own `Uuid.randomUuid`, never one starting with '-': `kafka-storage
 * format --cluster-id -…` reads it as an option and fails (1 stack in 64).
 */
function clusterId(layout: StackLayout): string {
  const file = join(layout.kafkaDir, 'cluster-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  let id: string;
  do id = randomBytes(16).toString('base64url');
  while (id.startsWith('-'));
  mkdirSync(layout.kafkaDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}

function serverProperties(config: Config, layout: StackLayout, index: number): string {
  const { brokerPorts, controllerPortBase, replicationFactor, minInsyncReplicas } = config.kafka;
  const voters = brokerPorts.map((_, i) => `${i + 1}@127.0.0.1:${controllerPortBase + i}`).join(',');
  const port = brokerPorts[index]!;
  const controllerPort = controllerPortBase + index;
  const internalRf = Math.min(replicationFactor, brokerPorts.length);
  return [
    'process.roles=broker,controller',
    `node.id=${index + 1}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(layout.brokerDir(index + 1), 'data')}`,
    // Topics are created explicitly with region partitioning; never by accident.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    `default.replication.factor=${internalRf}`,
    `min.insync.replicas=${minInsyncReplicas}`,
    `offsets.topic.replication.factor=${internalRf}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${internalRf}`,
    `transaction.state.log.min.isr=${Math.min(minInsyncReplicas, internalRf)}`,
    // An out-of-sync replica must never become leader: that would lose acked records.
    'unclean.leader.election.enable=false',
    'group.initial.rebalance.delay.ms=0',
    // Notice a dead broker in ~4 s instead of 9 s, so leaders move quickly
    // when one is killed (the producer retries across that window).
    'broker.session.timeout.ms=4000',
    'broker.heartbeat.interval.ms=1000',
    // Small box: few threads, modest buffers.
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    'log.retention.hours=-1',
    'log.segment.bytes=268435456',
    '',
  ].join('\n');
}

const LOG4J = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka=INFO',
  'log4j.logger.org.apache.kafka=INFO',
  'log4j.logger.state.change.logger=WARN',
  'log4j.logger.kafka.request.logger=WARN',
  '',
].join('\n');

/** The JVM command line shared by the broker and its tools. */
export function javaArgs(layout: StackLayout, mainClass: string, heapMb: number): string[] {
  return [
    `-Xms${Math.min(128, heapMb)}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    '-cp',
    join(layout.kafkaLibs, '*'),
    mainClass,
  ];
}

export function kafkaBrokerServices(config: Config, layout: StackLayout): StackService[] {
  return config.kafka.brokerPorts.map((port, index) => {
    const dir = layout.brokerDir(index + 1);
    const propsFile = join(dir, 'server.properties');
    const log4jFile = join(dir, 'log4j.properties');
    const name = `kafka-${index + 1}`;
    return {
      name,
      endpoint: `127.0.0.1:${port}`,
      marker: propsFile,
      startTimeoutMs: 90_000,
      async prepare() {
        mkdirSync(join(dir, 'data'), { recursive: true });
        writeFileSync(propsFile, serverProperties(config, layout, index));
        writeFileSync(log4jFile, LOG4J);
        if (existsSync(join(dir, 'data', 'meta.properties'))) return;
        const format = spawnSync(
          'java',
          [
            ...javaArgs(layout, 'kafka.tools.StorageTool', 256),
            'format',
            '-t',
            clusterId(layout),
            '-c',
            propsFile,
            '--ignore-formatted',
          ],
          { encoding: 'utf8', env: { ...process.env, KAFKA_LOG4J_OPTS: '' } },
        );
        if (format.status !== 0) {
          throw new Error(`formatting ${name} storage failed: ${format.stderr || format.stdout}`);
        }
      },
      launchSpec() {
        const args = javaArgs(layout, 'kafka.Kafka', config.kafka.heapMb);
        args.splice(
          args.indexOf('-cp'),
          0,
          `-Dlog4j.configuration=file:${log4jFile}`,
          `-Dkafka.logs.dir=${dir}`,
        );
        return {
          command: 'java',
          args: [...args, propsFile],
          cwd: dir,
          pidFile: layout.pidFile(name),
          logFile: layout.logFile(name),
        };
      },
      async healthy() {
        // An ApiVersions request (key 18, v0) proves the listener speaks Kafka.
        const request = Buffer.from([0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4, 0x68, 0x65, 0x61, 0x6c]);
        const reply = await tcpExchange(port, request.toString('latin1'), /[\s\S]{8}/);
        return reply.length >= 8;
      },
    };
  });
}
