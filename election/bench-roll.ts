/**
 * How long the synthetic roll takes to make: `npx tsx election/bench-roll.ts [election]`.
 *
 * Three measurements over the whole roll, each the median of 5 runs after a warm-up:
 *   members   member id + district for every member (what `listSampleMembers` does per row)
 *   csv       the CSV text `roll` streams, hashed with SHA-256 instead of written
 *   hashed    member → voterHash (HMAC-SHA256) + district, what `load` sends to Redis
 */
import { createHash, randomBytes } from 'node:crypto';
import { loadElection } from './load.js';
import { forEachSampleMember, sampleRollCsv, sampleRollPlan } from './sample-roll.js';
import { voterHash } from './voter-hash.js';

const index = loadElection(process.argv[2] ?? 'sample');
const plan = sampleRollPlan(index);
const pepper = randomBytes(32);
const RUNS = 5;

function measure(name: string, run: () => void): void {
  run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(RUNS / 2)]!;
  const perMember = (median * 1e6) / plan.size;
  console.log(
    `${name.padEnd(8)} ${median.toFixed(0).padStart(6)} ms   ${perMember.toFixed(0).padStart(5)} ns/member`,
  );
}

console.log(
  `${index.id}: ${plan.size} members, ${plan.districts.length} districts (node ${process.version})`,
);
let sink = 0;
measure('members', () => {
  forEachSampleMember(plan, 0, plan.size, (memberId, d) => {
    sink += memberId.length + d;
  });
});
measure('csv', () => {
  const hash = createHash('sha256');
  for (const chunk of sampleRollCsv(index)) hash.update(chunk);
  sink += hash.digest()[0]!;
});
measure('hashed', () => {
  forEachSampleMember(plan, 0, plan.size, (memberId, d) => {
    sink += voterHash(pepper, memberId).length + d;
  });
});
if (sink === 0) console.log('(unreachable: keeps the work from being optimised away)');
