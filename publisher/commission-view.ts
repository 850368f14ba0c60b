/**
 * What the observers' feed says the commission has done. Until the
 * publisher follows the `election-events` stream, it is the config's times
 * alone: no pause, no actions.
 */
import type { ElectionIndex } from '../election/index.js';
import type { CommissionView } from './observer-feed.js';

export function configCommission(index: ElectionIndex): (now: number) => CommissionView {
  const closes = new Date(index.closesAt).toISOString().replace('.000Z', 'Z');
  return (now) => ({
    phase: now < index.opensAt ? 'scheduled' : now < index.closesAt ? 'open' : 'closed',
    pause: null,
    closes,
    actions: [],
  });
}
