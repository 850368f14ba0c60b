/**
 * Roll import from CSV (`member_id,district`), for real elections.
 *
 * Two streaming passes, so a roll of any size never sits in memory:
 *   1. scan: check every row, hash the file, find repeated members;
 *   2. rows: re-read and hand (voterHash, district) batches to the loader.
 * Import is all-or-nothing by default: any bad row stops it before Redis is
 * touched. Member ids are hashed with the pepper the moment they are read
 * and never appear in messages, logs or storage — errors name line numbers.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ElectionError, type ElectionIssue } from './errors.js';
import type { ElectionIndex } from './load.js';
import type { RollRow } from './roll-redis.js';
import { ROLL_CSV_HEADER } from './sample-roll.js';
import { voterHash } from './voter-hash.js';

/** A member id as registries write them (an IIN is 12 digits); nothing that needs CSV quoting. */
const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Issues listed in an error; the count of the rest follows. */
const MAX_LISTED = 20;

export interface RollCsvScan {
  readonly path: string;
  /** SHA-256 (hex) of the file's bytes. */
  readonly digest: string;
  /** Rows that will be loaded. */
  readonly rows: number;
  /** Whether the first line is the `member_id,district` header; without it nothing is loaded. */
  readonly headerOk: boolean;
  /** Line numbers of rejected rows (bad or repeated): skipped when bad rows are allowed. */
  readonly badLines: ReadonlySet<number>;
  /** Every problem, as `line N: message`, in line order. */
  readonly issues: readonly ElectionIssue[];
}

type LineVisitor = (line: string, lineNo: number) => void;

/** Calls `visit` for every line (1-based numbers, CR and BOM stripped); returns the SHA-256 of the bytes. */
async function eachLine(path: string, visit: LineVisitor): Promise<string> {
  const hash = createHash('sha256');
  const input = createReadStream(path);
  input.on('data', (chunk) => hash.update(chunk));
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      visit(lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw, lineNo);
    }
  } catch (cause) {
    throw new ElectionError('roll_invalid', `cannot read roll CSV ${path}`, { cause });
  }
  return hash.digest('hex');
}

interface ParsedRow {
  readonly memberId: string;
  readonly district: string;
}

/** Parses a data line; returns an error message instead of a row when it is bad. */
function parseRow(line: string, index: ElectionIndex): ParsedRow | string {
  const fields = line.split(',');
  if (fields.length !== 2) return `expected 2 fields (member_id,district), got ${fields.length}`;
  const memberId = fields[0]!.trim();
  const district = fields[1]!.trim();
  // The id itself is never echoed: it is personal data (an IIN).
  if (!MEMBER_ID.test(memberId)) return 'member_id must be 1–64 letters, digits, "_" or "-"';
  if (index.district(district) === undefined)
    return `unknown district ${JSON.stringify(district.slice(0, 64))}`;
  return { memberId, district };
}

/**
 * Pass 1: validates every row and finds repeated members. Repeats are found
 * from the first 52 bits of each voterHash kept in a Float64Array (8 bytes a
 * row, sorted natively), then confirmed on full hashes in a short extra pass.
 */
export async function scanRollCsv(path: string, index: ElectionIndex, pepper: Buffer): Promise<RollCsvScan> {
  const issues: ElectionIssue[] = [];
  const badLines = new Set<number>();
  const bad = (lineNo: number, message: string): void => {
    badLines.add(lineNo);
    issues.push({ path: `line ${lineNo}`, message });
  };
  let prefixes = new Float64Array(1 << 16);
  let count = 0;
  let headerSeen = false;
  let headerOk = true;

  const digest = await eachLine(path, (line, lineNo) => {
    if (line.trim() === '') return;
    if (!headerSeen) {
      headerSeen = true;
      if (line.trim().toLowerCase() !== ROLL_CSV_HEADER) {
        headerOk = false;
        issues.push({ path: `line ${lineNo}`, message: `header must be "${ROLL_CSV_HEADER}"` });
      }
      return;
    }
    const row = parseRow(line, index);
    if (typeof row === 'string') return bad(lineNo, row);
    if (count === prefixes.length) {
      const grown = new Float64Array(prefixes.length * 2);
      grown.set(prefixes);
      prefixes = grown;
    }
    prefixes[count++] = hashPrefix(voterHash(pepper, row.memberId));
  });

  const sorted = prefixes.subarray(0, count).sort();
  const suspects = new Set<number>();
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) suspects.add(sorted[i]!);
  const repeats = suspects.size === 0 ? 0 : await findRepeats(path, index, pepper, suspects, bad);

  if (count === 0 && headerOk) issues.push({ path, message: 'has no members' });
  issues.sort((a, b) => lineOf(a) - lineOf(b));
  return { path, digest, rows: count - repeats, headerOk, badLines, issues };
}

const lineOf = (issue: ElectionIssue): number => Number(issue.path.slice(5)) || 0;

/** 13 hex digits = 52 bits: exact in a double, so the prefixes sort as numbers. */
function hashPrefix(hex: string): number {
  return Number.parseInt(hex.slice(0, 13), 16);
}

/**
 * Extra pass over the file for the few suspected repeats: reports every
 * occurrence after the first and returns how many there were.
 */
async function findRepeats(
  path: string,
  index: ElectionIndex,
  pepper: Buffer,
  suspects: ReadonlySet<number>,
  bad: (lineNo: number, message: string) => void,
): Promise<number> {
  let repeats = 0;
  const firstLine = new Map<string, number>();
  let headerSeen = false;
  await eachLine(path, (line, lineNo) => {
    if (line.trim() === '') return;
    if (!headerSeen) {
      headerSeen = true;
      return;
    }
    const row = parseRow(line, index);
    if (typeof row === 'string') return;
    const hash = voterHash(pepper, row.memberId);
    if (!suspects.has(hashPrefix(hash))) return;
    const first = firstLine.get(hash);
    if (first === undefined) firstLine.set(hash, lineNo);
    else {
      repeats++;
      bad(lineNo, `member_id repeats line ${first}`);
    }
  });
  return repeats;
}

/**
 * Throws unless the scan is clean (or `allowBadRows` and something is left to load).
 * @throws ElectionError `roll_invalid` naming the first bad lines
 */
export function assertRollCsv(scan: RollCsvScan, allowBadRows: boolean): void {
  const fatal = scan.rows === 0 || !scan.headerOk;
  if (scan.issues.length === 0 || (allowBadRows && !fatal)) return;
  const listed = scan.issues.slice(0, MAX_LISTED);
  const more = scan.issues.length - listed.length;
  const tail = more > 0 ? [{ path: '', message: `… and ${more} more` }] : [];
  const what =
    scan.badLines.size > 0 ? `${scan.badLines.size} bad rows; nothing was imported` : 'nothing was imported';
  throw new ElectionError('roll_invalid', `${scan.path}: ${what}${allowBadRows ? '' : ' (all-or-nothing)'}`, {
    issues: [...listed, ...tail],
  });
}

/**
 * Pass 2: the file's good rows as (voterHash, district) batches for
 * `loadRoll`. Lines the scan rejected are skipped, so only call this after
 * {@link assertRollCsv}.
 */
export async function* rollCsvRows(
  scan: RollCsvScan,
  index: ElectionIndex,
  pepper: Buffer,
  batchSize = 5000,
): AsyncGenerator<RollRow[]> {
  // readline's async iterator already streams; batches are collected per chunk of lines.
  const input = createReadStream(scan.path);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let headerSeen = false;
  let batch: RollRow[] = [];
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    if (!headerSeen) {
      headerSeen = true;
      continue;
    }
    if (scan.badLines.has(lineNo)) continue;
    const row = parseRow(line, index);
    if (typeof row === 'string') continue;
    batch.push({ voterHash: voterHash(pepper, row.memberId), district: row.district });
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
