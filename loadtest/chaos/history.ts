/**
 * The run's history (Jepsen's word): every request every voter made, with
 * its outcome, one JSON object per line, one file per generator process.
 * The checker reads nothing else from the client side.
 *
 *   login   {k, t, v, d, a, s, c, o, ms}                   v = voterHash, d = device (1 first, 2 second)
 *   issue   {k, t, v, d, a, s, c, o, ms, bh, sh}           bh = SHA-256 of the blinded message, sh = of the blind signature (ok only)
 *   cred    {k, t, v, d, id}                               the credential of (voter, device) has ballotId id
 *   ballot  {k, t, id, x, rows, why}                       version x of the ballot under credential id
 *   cast    {k, t, id, x, a, s, c, o, ms, r}               r = ballotId in the answer (2xx only)
 *   anomaly {k, t, what, v?, id?}                          the client saw something impossible
 *
 * t: ms since the run started; a: attempt (1…); s: HTTP status (0: none);
 * c: error code; o: ok | refused | unknown (`voters/api.ts`). Voters are
 * named by voterHash, never by member id. This file joins voters to their
 * choices (it is the client's own memory); reports built from it never do.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SelectionRow } from '../../common/records.js';
import type { Outcome } from './voters/api.js';

interface Request {
  readonly t: number;
  readonly a: number;
  readonly s: number;
  readonly c: string;
  readonly o: Outcome;
  readonly ms: number;
}

export interface LoginRecord extends Request {
  readonly k: 'login';
  readonly v: string;
  readonly d: number;
}

export interface IssueRecord extends Request {
  readonly k: 'issue';
  readonly v: string;
  readonly d: number;
  readonly bh: string;
  readonly sh: string | null;
}

export interface CredentialRecord {
  readonly k: 'cred';
  readonly t: number;
  readonly v: string;
  readonly d: number;
  readonly id: string;
}

export type BallotWhy = 'first' | 'changed' | 'recast';

export interface BallotRecordDef {
  readonly k: 'ballot';
  readonly t: number;
  readonly id: string;
  readonly x: number;
  readonly rows: readonly SelectionRow[];
  readonly why: BallotWhy;
}

export interface CastRecord extends Request {
  readonly k: 'cast';
  readonly id: string;
  readonly x: number;
  readonly r: string | null;
}

export interface AnomalyRecord {
  readonly k: 'anomaly';
  readonly t: number;
  readonly what: string;
  readonly v?: string;
  readonly id?: string;
}

export type HistoryRecord =
  | LoginRecord
  | IssueRecord
  | CredentialRecord
  | BallotRecordDef
  | CastRecord
  | AnomalyRecord;

export class HistoryWriter {
  private readonly out: WriteStream;

  constructor(file: string) {
    this.out = createWriteStream(file, { flags: 'w' });
  }

  write(record: HistoryRecord): void {
    this.out.write(`${JSON.stringify(record)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
}

/** Every record of the files, in file order. */
export async function* readHistory(files: readonly string[]): AsyncGenerator<HistoryRecord> {
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) if (line !== '') yield JSON.parse(line) as HistoryRecord;
  }
}
