/**
 * The `final` member of a snapshot taken for a `declared` event (issue 16):
 * the declaration (who, why, when, the protocol's reference), its round,
 * winners per race and, from round 2 on, what changed since the previous
 * final. Pure: the scheduler passes the declaration and the previous final.
 */
import type { FinalResult, Snapshot, UnsignedSnapshot } from './snapshot.js';
import { finalChanges, winnersOf } from './winners.js';

/** The fields of a `declared` election event the final carries. */
export interface Declaration {
  readonly id: string;
  readonly by: string;
  /** The event's `detail`: the reason shown to people. */
  readonly detail: string;
  readonly at: number;
  readonly reference?: string;
}

export function finalResult(
  snapshot: Pick<UnsignedSnapshot, 'races'>,
  declaration: Declaration,
  previous: Snapshot | null,
): FinalResult {
  return {
    declaration: declaration.id,
    by: declaration.by,
    reason: declaration.detail,
    at: declaration.at,
    reference: declaration.reference ?? '',
    round: (previous?.final?.round ?? 0) + 1,
    winners: winnersOf(snapshot),
    changes: previous === null ? null : finalChanges(previous, snapshot),
  };
}
