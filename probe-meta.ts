import { Admin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
const brokers = ['127.0.0.1:9092','127.0.0.1:9093','127.0.0.1:9094'];
for (const b of brokers) {
  const admin = new Admin({ clientId: 'probe', bootstrapBrokers: [b] });
  const meta = await admin.metadata({ topics: ['probe'] });
  console.log('via', b, 'leaders', meta.topics.get('probe')!.partitions.map((p) => p.leader).join(','), [...meta.brokers].map(([id, x]) => `${id}=${x.port}`).join(' '));
  await admin.close();
}
const k = new Kafka({ clientId: 'x', brokers, logLevel: logLevel.NOTHING }).admin();
await k.connect();
const m = await k.fetchTopicMetadata({ topics: ['probe'] });
console.log('kafkajs', m.topics[0]!.partitions.sort((a,b)=>a.partitionId-b.partitionId).map((p) => p.leader).join(','));
await k.disconnect();
