/**
 * One spelling for a ballot's choices, so the client's ballot, the Kafka
 * record and ClickHouse can be compared: rows `[race, candidate…]`, races in
 * id order, candidates sorted (what `ingest/ballot-rules.ts` produces), as
 * JSON. Anything that is not rows of strings is kept as its own JSON, so it
 * can only equal itself.
 */

export function canonicalRows(selections: unknown): string {
  if (!Array.isArray(selections)) return JSON.stringify(selections ?? null);
  const rows: string[][] = [];
  for (const row of selections) {
    if (!Array.isArray(row) || row.length === 0 || !row.every((x) => typeof x === 'string')) {
      return JSON.stringify(selections);
    }
    const [race, ...choices] = row as string[];
    rows.push([race!, ...choices.sort()]);
  }
  rows.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  return JSON.stringify(rows);
}

/** The (race, candidate) marks of canonical rows. */
export function marksOf(rowsKey: string): [race: string, candidate: string][] {
  const rows = JSON.parse(rowsKey) as unknown;
  if (!Array.isArray(rows)) return [];
  const marks: [string, string][] = [];
  for (const row of rows) {
    if (!Array.isArray(row)) continue;
    const [race, ...choices] = row as string[];
    for (const c of choices) marks.push([race!, c]);
  }
  return marks;
}
