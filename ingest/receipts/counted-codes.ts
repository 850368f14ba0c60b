/**
 * Which ballots the latest published snapshot counts, for receipt lookups.
 *
 * The publisher writes `<publicDir>/latest.json` (with its `seq`) and the
 * list of counted ballot ids as `<publicDir>/codes/<seq>.txt`, one id per
 * line. This module re-reads them on one timer, only when `seq` changes, and
 * answers `has()` from memory. Missing files simply mean "nothing counted yet".
 * `latest.json` may also carry a `turnout` headline, pushed to sessions.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loggableError } from '../../common/log.js';

export class CountedCodes {
  private seq: number | null = null;
  private codes: ReadonlySet<string> = new Set();
  private turnoutValue: unknown = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly publicDir: string,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  /** The snapshot seq that counts `ballotId`, or null. */
  snapshotOf(ballotId: string): number | null {
    return this.codes.has(ballotId) ? this.seq : null;
  }

  /** The latest published turnout headline, if the publisher provides one. */
  get turnout(): unknown {
    return this.turnoutValue;
  }

  async refresh(): Promise<void> {
    let latest: { seq?: unknown; turnout?: unknown };
    try {
      latest = JSON.parse(await readFile(join(this.publicDir, 'latest.json'), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn({ err: loggableError(err), code: 'SAYLAU_ERR_CODES_READ' }, 'cannot read latest.json');
      }
      return;
    }
    this.turnoutValue = latest.turnout ?? null;
    if (typeof latest.seq !== 'number' || latest.seq === this.seq) return;
    const seq = latest.seq;
    try {
      const text = await readFile(join(this.publicDir, 'codes', `${seq}.txt`), 'utf8');
      const codes = new Set<string>();
      for (const line of text.split('\n')) {
        const id = line.trim();
        if (id !== '') codes.add(id);
      }
      this.codes = codes;
      this.seq = seq;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn(
          { err: loggableError(err), code: 'SAYLAU_ERR_CODES_READ', seq },
          'cannot read counted codes',
        );
      }
    }
  }
}
