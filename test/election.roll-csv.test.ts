/**
 * Roll import from CSV: bad rows are reported by line number (never by
 * member id), and the import is all-or-nothing unless told otherwise.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertRollCsv,
  type ElectionError,
  indexElection,
  loadElection,
  type RollRow,
  rollCsvRows,
  scanRollCsv,
  voterHash,
} from '../election/index.js';

const index = indexElection({ ...loadElection('tiny').config, id: 'test-election-csv' });
const pepper = randomBytes(32);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'saylau-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function csv(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function collect(rows: AsyncIterable<readonly RollRow[]>): Promise<RollRow[]> {
  const out: RollRow[] = [];
  for await (const batch of rows) out.push(...batch);
  return out;
}

function thrown(run: () => void): ElectionError {
  try {
    run();
  } catch (err) {
    return err as ElectionError;
  }
  throw new Error('did not throw');
}

describe('roll CSV import', () => {
  it('reads a good file into (voterHash, district) rows', async () => {
    const path = await csv(
      'good.csv',
      '\uFEFFmember_id,district\r\n870101300001,D-71-1\r\n870101300002, D-75-2 \r\n\r\n',
    );
    const scan = await scanRollCsv(path, index, pepper);
    expect(scan.issues).toEqual([]);
    expect(scan.rows).toBe(2);
    assertRollCsv(scan, false);
    expect(await collect(rollCsvRows(scan, index, pepper))).toEqual([
      { voterHash: voterHash(pepper, '870101300001'), district: 'D-71-1' },
      { voterHash: voterHash(pepper, '870101300002'), district: 'D-75-2' },
    ]);
  });

  it('rejects the whole file when a row is bad, naming the line and not the member', async () => {
    const path = await csv(
      'bad.csv',
      [
        'member_id,district',
        '870101300001,D-71-1',
        '870101300002,D-99-9',
        '870101300003',
        '870101300004,D-75-1',
        '',
      ].join('\n'),
    );
    const scan = await scanRollCsv(path, index, pepper);
    const err = thrown(() => assertRollCsv(scan, false));
    expect(err.code).toBe('roll_invalid');
    expect(err.issues).toEqual([
      { path: 'line 3', message: 'unknown district "D-99-9"' },
      { path: 'line 4', message: 'expected 2 fields (member_id,district), got 1' },
    ]);
    expect(err.message).toContain('line 3: unknown district "D-99-9"');
    expect(err.message).toContain('nothing was imported');
    expect(err.message).not.toContain('870101300002');
  });

  it('finds a member listed twice, even in different districts', async () => {
    const rows = ['member_id,district'];
    for (let i = 0; i < 3000; i++) rows.push(`${String(900000000000 + i)},${i % 2 ? 'D-71-1' : 'D-75-1'}`);
    rows.push('900000000017,D-75-2');
    const scan = await scanRollCsv(await csv('dup.csv', `${rows.join('\n')}\n`), index, pepper);
    expect(scan.issues).toEqual([{ path: 'line 3002', message: 'member_id repeats line 19' }]);
    expect(scan.rows).toBe(3000);
  });

  it('with skipBadRows loads the good rows and skips the bad ones', async () => {
    const path = await csv('mixed.csv', 'member_id,district\n1,D-71-1\nbad id!,D-71-1\n2,D-75-1\n1,D-75-2\n');
    const scan = await scanRollCsv(path, index, pepper);
    expect(scan.issues.map((i) => i.path)).toEqual(['line 3', 'line 5']);
    expect(() => assertRollCsv(scan, false)).toThrow();
    assertRollCsv(scan, true);
    const rows = await collect(rollCsvRows(scan, index, pepper));
    expect(rows.map((r) => r.district)).toEqual(['D-71-1', 'D-75-1']);
  });

  it('requires the header, even with skipBadRows', async () => {
    const scan = await scanRollCsv(await csv('noheader.csv', '1,D-71-1\n'), index, pepper);
    expect(scan.issues[0]).toEqual({ path: 'line 1', message: 'header must be "member_id,district"' });
    expect(() => assertRollCsv(scan, true)).toThrow(expect.objectContaining({ code: 'roll_invalid' }));
  });

  it('rejects an empty roll and a missing file', async () => {
    const empty = await scanRollCsv(await csv('empty.csv', 'member_id,district\n'), index, pepper);
    expect(() => assertRollCsv(empty, false)).toThrow(/has no members/);
    await expect(scanRollCsv(join(dir, 'missing.csv'), index, pepper)).rejects.toMatchObject({
      code: 'roll_invalid',
    });
  });
});
