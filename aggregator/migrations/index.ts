/** Every migration, in version order. Append only; never edit one that has shipped. */
import { initial } from './001-initial.js';
import { replay } from './002-replay.js';
import { ballotWinners } from './003-ballot-winners.js';
import { separateTurnout } from './004-separate-turnout.js';
import { paperChannel } from './005-paper-channel.js';
import { reports } from './006-reports.js';
import { revisionWinners } from './007-revision-winners.js';
import type { Migration } from './types.js';

export const MIGRATIONS: readonly Migration[] = [
  initial,
  replay,
  ballotWinners,
  separateTurnout,
  paperChannel,
  reports,
  revisionWinners,
];

export type { Migration, MigrationContext } from './types.js';
