/**
 * Entry of a forked run (kafka-clients.bench.ts forks one per configuration
 * and round): takes one job from the IPC channel, runs it, answers, exits.
 * It exits by itself even when a client leaves sockets or timers behind.
 */
import { errorChain } from './error-chain.js';
import type { ChildAnswer, Job } from './jobs.js';
import { runProduce } from './produce-job.js';
import { runRead } from './read-job.js';

function answer(message: ChildAnswer): void {
  process.send?.(message, () => process.exit(message.ok ? 0 : 1));
}

process.once('message', (job: Job) => {
  const run = job.kind === 'produce' ? runProduce(job) : runRead(job);
  run.then(
    (result) => answer({ ok: true, result }),
    (error: unknown) => answer({ ok: false, error: errorChain(error) }),
  );
});
