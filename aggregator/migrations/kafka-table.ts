/**
 * The Kafka engine table of one topic, in the SETTINGS form that ClickHouse
 * 18.16 and current releases both accept.
 *
 * 18.16 knows exactly these kafka_* settings (read from its library):
 * kafka_broker_list, kafka_topic_list, kafka_group_name, kafka_format,
 * kafka_row_delimiter, kafka_schema, kafka_num_consumers, kafka_max_block_size.
 * It has no kafka_skip_broken_messages (19.x): a record that does not parse
 * makes every read of the table fail and retry forever, unless the server's
 * default profile allows input errors (README, "Broken records").
 */
import { stringLiteral } from '../sql.js';

/**
 * Messages per block the engine hands to the materialized views.
 *
 * 18.16 ends a block only when it is full or when a poll waits 500 ms for
 * nothing; the 65,536 default is over a minute at 1,000 ballots/s. Each block
 * becomes one part per target table, so smaller blocks at 10,000/s mean more
 * parts to merge. 2,000: about 2 s to fill at 1,000/s, five blocks a second
 * at 10,000/s. A block is written at once only if the server profile does not
 * squash inserts (`min_insert_block_size_rows`, README "Freshness").
 */
export const KAFKA_MAX_BLOCK_SIZE = 2000;

export function kafkaEngine(
  brokers: string,
  topic: string,
  group: string,
  maxBlockSize: number = KAFKA_MAX_BLOCK_SIZE,
): string {
  // kafka_row_delimiter '\n' puts a newline between messages: when the server
  // is allowed to skip a broken record, JSONEachRow resynchronises at the next
  // newline, i.e. at the next message instead of the end of the whole batch.
  return `ENGINE = Kafka() SETTINGS
    kafka_broker_list = ${stringLiteral(brokers)},
    kafka_topic_list = ${stringLiteral(topic)},
    kafka_group_name = ${stringLiteral(group)},
    kafka_format = 'JSONEachRow',
    kafka_row_delimiter = '\\n',
    kafka_num_consumers = 1,
    kafka_max_block_size = ${maxBlockSize}`;
}
