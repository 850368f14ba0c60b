/**
 * Proves a broken record does not stop consumption. 18.16 has no
 * kafka_skip_broken_messages; what it has is the default profile's
 * input_format_allow_errors_num (README, "Server settings") together with
 * kafka_row_delimiter '\n', which lets JSONEachRow skip to the next message.
 *
 * Runs on its own topic and throwaway database (the same Kafka engine DDL as
 * the real streams), so a server without the setting wedges only this test's
 * stream, never the shared `ballots` pipeline.
 */
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { seedGroupAtEarliest } from '../aggregator/consumer-groups.js';
import { createKafka } from '../aggregator/kafka.js';
import { kafkaEngine } from '../aggregator/migrations/kafka-table.js';
import { checkServerSettings } from '../aggregator/server-settings.js';
import { config, eventually, log, producer } from './aggregator.support.js';

const suffix = Date.now().toString(36);
const topic = `saylau-test-broken-${suffix}`;
const database = `saylau_test_broken_${suffix}`;
const group = `clickhouse-${database}-probe`;

let admin: Admin;
let kafka: Producer;
let ch: ClickHouse;

beforeAll(async () => {
  admin = createKafka(config, log, 'saylau-aggregator-test').admin();
  await admin.connect();
  // kafkajs's waitForLeaders races the metadata of a fresh topic (infra/topics.ts says the same),
  // and listTopics answers from cached metadata: poll both until the topic is there with a leader.
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 3 }],
    waitForLeaders: false,
  });
  for (let i = 0; i < 100; i++) {
    const led = await admin
      .fetchTopicMetadata({ topics: [topic] })
      .then((meta) => meta.topics[0]?.partitions.every((p) => p.leader >= 0) === true)
      .catch(() => false);
    if (led && (await admin.listTopics()).includes(topic)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await seedGroupAtEarliest(admin, group, topic, log);
  const server = new ClickHouse(config, { database: null });
  await server.command(`CREATE DATABASE ${database}`);
  await server.close();
  ch = new ClickHouse(config, { database });
  await ch.command(
    `CREATE TABLE probe_queue (v UInt8, election String, ballotId String, selections Array(Array(String)))
     ${kafkaEngine(config.kafka.brokers.join(','), topic, group)}`,
  );
  await ch.command(
    'CREATE TABLE probe (election String, ballot_id String) ENGINE = MergeTree() PARTITION BY tuple() ORDER BY ballot_id',
  );
  await ch.command(
    'CREATE MATERIALIZED VIEW probe_mv TO probe AS SELECT election, ballotId AS ballot_id FROM probe_queue WHERE v = 1',
  );
  kafka = await producer();
  const valid = (id: string) =>
    JSON.stringify({ v: 1, election: 'broken', ballotId: id, selections: [['r', 'c']] });
  await kafka.send({
    topic,
    acks: -1,
    messages: [
      valid('before'),
      'garbage{',
      JSON.stringify({ v: 1, election: 'broken', ballotId: 'wrong-type', selections: [['r', 7]] }),
      valid('after'),
    ].map((value) => ({ value, partition: 0 })),
  });
});

afterAll(async () => {
  await kafka?.disconnect();
  await ch?.command(`DROP DATABASE IF EXISTS ${database}`);
  await ch?.close();
  await admin?.deleteTopics({ topics: [topic] });
  await admin?.deleteGroups([group]).catch(() => undefined);
  await admin?.disconnect();
});

describe('a broken record on a topic', () => {
  it('is skipped: the records after it are still counted', async () => {
    expect(await checkServerSettings(ch)).toEqual([]);
    const read = async () =>
      (await ch.rows<{ ballot_id: string }>('SELECT ballot_id FROM probe ORDER BY ballot_id')).map(
        (r) => r.ballot_id,
      );
    expect(await eventually(read, ['after', 'before'], 30_000)).toEqual(['after', 'before']);
  });
});
