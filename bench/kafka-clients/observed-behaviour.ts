/**
 * What @platformatic/kafka 1.35.0 does in the cases an exactly-once ledger
 * cares about, observed on the running stack (topic `bench-ledger` only) and
 * on fake endpoints (a closed port, a server that never answers); nothing is
 * stopped. Each section prints what it saw; bench/README.md records the
 * findings.
 *
 *   npx tsx bench/kafka-clients/observed-behaviour.ts [--stack-dir <.stack>]   (≈ 1 min)
 *
 *   1. send() result for a multi-partition send          4. no broker reachable, retries
 *   2. acks actually sent (decoded from the request)      5. the request timeout
 *   3. a partial failure: error.produced, idempotence     6. the connections:api tracing channel
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import {
  Connection,
  Consumer,
  ProduceAcks,
  Producer,
  serializersFrom,
  stringSerializer,
  TimeoutError,
  Writer,
} from '@platformatic/kafka';
import { loadConfig } from '../../common/config.js';
import { errorChain } from './error-chain.js';
import { BENCH_TOPIC, ensureBenchTopic, preferLeaders, topicRanges } from './topic.js';

const config = loadConfig();
const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: { 'stack-dir': { type: 'string', default: config.stackDir } },
});
const brokers = config.kafka.brokers;
const say = (text: string) => process.stdout.write(`${text}\n`);
const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
type Msg = { topic: string; partition: number; value: string };
const records = (partition: number, n: number, tag: string): Msg[] =>
  Array.from({ length: n }, (_, i) => ({
    topic: BENCH_TOPIC,
    partition,
    value: `${tag}-p${partition}-${i}`,
  }));
const producer = (options: Record<string, unknown> = {}) =>
  new Producer({
    clientId: 'saylau-observe',
    bootstrapBrokers: [...brokers],
    serializers: serializersFrom(stringSerializer),
    ...options,
  } as ConstructorParameters<typeof Producer<string, string, string, string>>[0]);
async function highWatermarks(): Promise<Map<number, bigint>> {
  return new Map((await topicRanges(brokers)).map((r) => [r.partition, BigInt(r.end)]));
}

/** Every Produce request's head (acks, timeout), captured from the socket write the channel's `start` precedes. */
interface ApiEvent {
  readonly phase: string;
  readonly fields: string[];
  readonly apiKey: number;
  readonly correlationId: number;
  readonly status: string;
  readonly peer: string;
  readonly bytesWritten: number;
  readonly result: boolean;
}
const events: ApiEvent[] = [];
const produceHeads: { acks: number; timeoutMs: number }[] = [];
type ApiContext = {
  apiKey: number;
  correlationId: number;
  result?: unknown;
  connection: {
    status: string;
    host?: string;
    port?: number;
    socket?: { bytesWritten: number; write: (...a: unknown[]) => boolean };
  };
};
const seen = (phase: string) => (message: unknown) => {
  const ctx = message as ApiContext;
  if (ctx.apiKey !== 0) return;
  events.push({
    phase,
    fields: Object.keys(ctx),
    apiKey: ctx.apiKey,
    correlationId: ctx.correlationId,
    status: ctx.connection.status,
    peer: `${ctx.connection.host}:${ctx.connection.port}`,
    bytesWritten: ctx.connection.socket?.bytesWritten ?? -1,
    result: ctx.result !== undefined,
  });
  const socket = ctx.connection.socket;
  if (phase !== 'start' || socket === undefined || ctx.connection.status !== 'connected') return;
  const write = socket.write;
  socket.write = (...a: unknown[]) => {
    socket.write = write;
    produceHeads.push(produceHead(a[0] as Buffer));
    return write.apply(socket, a);
  };
};
tracingChannel('plt:kafka:connections:api').subscribe({
  start: seen('start'),
  end: seen('end'),
  asyncStart: seen('asyncStart'),
  asyncEnd: seen('asyncEnd'),
  error: seen('error'),
});

/** Produce v9+ request: size, api key, version, correlation id, client id, tagged fields, transactional id, acks, timeout. */
function produceHead(b: Buffer): { acks: number; timeoutMs: number } {
  let at = 12;
  at += 2 + b.readInt16BE(at);
  at += 1; // empty tagged fields
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = b[at++]!;
    length |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
  }
  if (length > 0) at += length - 1;
  return { acks: b.readInt16BE(at), timeoutMs: b.readInt32BE(at + 2) };
}

async function sendResultShape(): Promise<void> {
  say('\n1. send() result for a multi-partition send (idempotent, 3 then 2 records to each of 6 partitions)');
  const p = producer({ idempotent: true });
  const parts = [0, 1, 2, 3, 4, 5];
  const first = await p.send({ messages: parts.flatMap((x) => records(x, 3, 'first')) });
  const second = await p.send({ messages: parts.flatMap((x) => records(x, 2, 'second')) });
  say(`   first:  ${show(first)}`);
  say(`   second: ${show(second)}`);
  const base = new Map(first.offsets?.map((o) => [o.partition, o.offset]));
  const stepped = second.offsets?.every((o) => o.offset === (base.get(o.partition) ?? -1n) + 3n);
  say(
    `   entries: ${first.offsets?.length} for 6 partitions; second offset = first + 3 everywhere: ${stepped}`,
  );
  const consumer = new Consumer({
    clientId: 'saylau-observe',
    groupId: 'unused',
    bootstrapBrokers: [...brokers],
  });
  const meta = await consumer.metadata({ topics: [BENCH_TOPIC] });
  const topic = meta.topics.get(BENCH_TOPIC)!;
  const entry = first.offsets![0]!;
  const fetched = await consumer.fetch({
    node: topic.partitions[entry.partition]!.leader,
    topics: [
      {
        topicId: topic.id,
        partitions: [
          {
            partition: entry.partition,
            fetchOffset: entry.offset,
            partitionMaxBytes: 65536,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          },
        ],
      },
    ],
  });
  const batch = fetched.responses[0]?.partitions[0]?.records?.[0];
  const at =
    batch?.records.findIndex((r) => batch.firstOffset + BigInt(r.offsetDelta) === entry.offset) ?? -1;
  say(
    `   record at partition ${entry.partition} offset ${entry.offset}: ${batch?.records[at]?.value?.toString()} (the first of that partition's batch)`,
  );
  await consumer.close();
  await p.close();
}

async function acksSent(): Promise<void> {
  say('\n2. acks and timeout as sent (decoded from each Produce request written to the socket)');
  for (const [label, options, sendAcks] of [
    ['not idempotent, Producer({ acks: -1 }), send() without acks', { acks: ProduceAcks.ALL }, undefined],
    ['not idempotent, send({ acks: -1 })', {}, ProduceAcks.ALL],
    ['idempotent, send() without acks', { idempotent: true }, undefined],
    ['not idempotent, Producer({ timeout: 2000 }), send({ acks: -1 })', { timeout: 2000 }, ProduceAcks.ALL],
  ] as const) {
    const p = producer(options);
    produceHeads.length = 0;
    await p.send({ messages: records(0, 1, 'acks'), ...(sendAcks === undefined ? {} : { acks: sendAcks }) });
    say(`   ${label}: ${show(produceHeads)}`);
    await p.close();
  }
}

async function partialFailure(idempotent: boolean): Promise<void> {
  say(
    `\n3${idempotent ? 'b' : 'a'}. partial failure, ${idempotent ? '' : 'not '}idempotent (retries 2, 100 ms)`,
  );
  const p = producer({ idempotent, retries: 2, retryDelay: 100 });
  const meta = await p.metadata({ topics: [BENCH_TOPIC] });
  const leaders = meta.topics.get(BENCH_TOPIC)!.partitions.map((x) => x.leader);
  const big = 0;
  const same = leaders.findIndex((l, i) => i !== big && l === leaders[big]);
  const other = leaders.findIndex((l) => l !== leaders[big]);
  say(`   leaders ${show(leaders)}; too large → p${big}; same leader → p${same}; other leader → p${other}`);
  const before = await highWatermarks();
  try {
    await p.send({
      messages: [
        { topic: BENCH_TOPIC, partition: big, value: 'x'.repeat(1_200_000) },
        ...records(same, 3, 'partial'),
        ...(other >= 0 ? records(other, 3, 'partial') : []),
      ],
      acks: -1,
    });
    say('   send resolved (unexpected)');
  } catch (e) {
    const error = e as Error & { produced?: unknown; errors?: { response?: unknown }[] };
    const after = await highWatermarks();
    const grew = (x: number) => (x < 0 ? 'n/a' : String((after.get(x) ?? 0n) - (before.get(x) ?? 0n)));
    say(`   error: ${errorChain(error)}`);
    say(`   error.produced: ${show(error.produced)}`);
    say(
      `   written (high watermark growth): p${big} +${grew(big)}, p${same} +${grew(same)}, p${other} +${grew(other)}`,
    );
    const response = error.errors?.[0] as
      | { response?: unknown; errors?: { response?: unknown }[] }
      | undefined;
    say(
      `   error.errors[0].response (the failed broker's answer): ${show(response?.response ?? null).slice(0, 400)}`,
    );
  }
  if (idempotent) {
    for (const n of [2, 3, 3]) {
      const b = await highWatermarks();
      try {
        const r = await p.send({ messages: records(same, n, `again${n}`), acks: -1 });
        const a = await highWatermarks();
        say(
          `   then ${n} new records to p${same}: acked ${show(r.offsets)}, written +${(a.get(same) ?? 0n) - (b.get(same) ?? 0n)}`,
        );
      } catch (e) {
        say(`   then ${n} new records to p${same}: ${errorChain(e)}`);
      }
    }
  }
  await p.close();
}

async function unreachable(): Promise<string[]> {
  const variants: [string, Record<string, unknown>][] = [
    ['defaults, not idempotent', {}],
    ['retries: 0', { retries: 0 }],
    ['idempotent, defaults', { idempotent: true }],
    ['idempotent, retries: 0', { idempotent: true, retries: 0 }],
    ['idempotent, retries: 1', { idempotent: true, retries: 1 }],
    ['idempotent, retries: 2, retryDelay: 100', { idempotent: true, retries: 2, retryDelay: 100 }],
    ['idempotent, retries: false', { idempotent: true, retries: false }],
  ];
  return Promise.all(
    variants.map(([label, o]) => settle(label, { ...o, bootstrapBrokers: ['127.0.0.1:1'] }, 12_000)),
  );
}

async function requestTimeout(): Promise<string[]> {
  const silent = createServer((socket) => socket.resume());
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const bootstrapBrokers = [`127.0.0.1:${(silent.address() as { port: number }).port}`];
  const lines = await Promise.all([
    settle('defaults', { bootstrapBrokers, retries: 0 }, 40_000),
    settle('timeout: 2000', { bootstrapBrokers, retries: 0, timeout: 2000 }, 40_000),
    settle('requestTimeout: 2000', { bootstrapBrokers, retries: 0, requestTimeout: 2000 }, 40_000),
    settle(
      'requestTimeout: 1000, retries: 2, retryDelay: 100',
      {
        bootstrapBrokers,
        requestTimeout: 1000,
        retries: 2,
        retryDelay: 100,
      },
      40_000,
    ),
  ]);
  silent.close();
  return lines;
}

/** One send with `options`: how long until it settled (or not, by `capMs`), attempts seen, and the error. */
async function settle(label: string, options: Record<string, unknown>, capMs: number): Promise<string> {
  const p = producer(options);
  let attempts = 0;
  p.on('client:performWithRetry', () => {
    attempts++;
  });
  const started = performance.now();
  const sent = p.send({ messages: records(0, 1, 'unreachable'), acks: -1 }).then(
    () => 'resolved',
    (e: unknown) => {
      const timeout =
        e instanceof TimeoutError
          ? ` (instanceof TimeoutError, canRetry ${show((e as { canRetry?: unknown }).canRetry)})`
          : '';
      return `${errorChain(e)}${timeout}`;
    },
  );
  let timer: NodeJS.Timeout | null = null;
  const cap = new Promise<string>((r) => {
    timer = setTimeout(() => r('STILL PENDING'), capMs);
  });
  const outcome = await Promise.race([sent, cap]);
  if (timer !== null) clearTimeout(timer);
  const ms = Math.round(performance.now() - started);
  await p.close().catch((e: unknown) => say(`   (close: ${errorChain(e)})`));
  return `${label}: ${ms} ms, ${attempts} attempt events: ${outcome}`;
}

async function tracing(): Promise<void> {
  say(
    '\n6. tracing channel plt:kafka:connections:api, Produce (apiKey 0) events of one idempotent send to 6 partitions',
  );
  const p = producer({ idempotent: true });
  await p.send({ messages: records(1, 1, 'warm') });
  events.length = 0;
  await p.send({ messages: [0, 1, 2, 3, 4, 5].flatMap((x) => records(x, 2, 'traced')) });
  for (const e of events) {
    say(
      `   ${e.phase.padEnd(10)} ${e.peer} corr ${e.correlationId} status ${e.status} bytesWritten ${e.bytesWritten} result ${e.result} fields ${e.fields.join(',')}`,
    );
  }
  await p.close();
  say('   a Produce request on a connection that is no longer connected (low-level Connection):');
  const connection = new Connection('saylau-observe');
  const [host, port] = brokers[0]!.split(':');
  await connection.connect(host!, Number(port));
  await connection.close();
  events.length = 0;
  const outcome = await new Promise<string>((resolve) => {
    connection.send(
      0,
      9,
      () => Writer.create().appendInt32(0),
      () => null,
      true,
      true,
      (error: Error | null) => resolve(error === null ? 'no error' : errorChain(error)),
    );
  });
  for (const e of events)
    say(
      `   ${e.phase.padEnd(10)} ${e.peer} corr ${e.correlationId} status ${e.status} bytesWritten ${e.bytesWritten}`,
    );
  say(`   callback: ${outcome}`);
}

await ensureBenchTopic(brokers);
const spread = await preferLeaders(brokers, args['stack-dir']);
say(
  `@platformatic/kafka observed behaviour; node ${process.version}; ${BENCH_TOPIC} leaders ${show(spread)}`,
);
await sendResultShape();
await acksSent();
await partialFailure(false);
await partialFailure(true);
// Both only wait on fake endpoints: run together, print in order.
const [closedPort, silentServer] = await Promise.all([unreachable(), requestTimeout()]);
say('\n4. no broker reachable: bootstrap 127.0.0.1:1 (closed port); each capped at 12 s');
for (const line of closedPort) say(`   ${line}`);
say(
  '\n5. request timeout: a server that accepts the connection and never answers; retries: 0; capped at 40 s',
);
for (const line of silentServer) say(`   ${line}`);
await tracing();
process.exit(0);
