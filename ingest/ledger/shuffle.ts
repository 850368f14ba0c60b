/** Shuffling that an observer of the result cannot undo (the mix, each produce batch). */
import { randomInt } from 'node:crypto';

/** Fisher–Yates in place with crypto-random, unbiased indices: arrival order must not be guessable. */
export function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const swap = items[i]!;
    items[i] = items[j]!;
    items[j] = swap;
  }
}
