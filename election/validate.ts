/**
 * Validates an election config: the ajv pass (shapes), then the referential
 * pass (how the parts fit together). Both report `path: message`, with paths
 * written the way a person reads the file: `districts[3].races[1]`.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { type ElectionConfig, ElectionConfigSchema } from './config-schema.js';
import { ElectionError, type ElectionIssue } from './errors.js';

// Compiled once at module load (STYLE §5); `allErrors` so one run shows every shape problem.
// `verbose` puts the offending value in each error, so messages can say what was found.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validateShape = ajv.compile<ElectionConfig>(ElectionConfigSchema);

/** Past this many issues the rest are noise from the same mistake. */
const MAX_ISSUES = 50;

/**
 * Returns every problem found in `raw`, or an empty list if it is a valid
 * election config. Referential rules run only once the shapes are right.
 */
export function checkElectionConfig(raw: unknown): ElectionIssue[] {
  if (!validateShape(raw)) {
    const issues = dedupe((validateShape.errors ?? []).map(ajvIssue));
    return issues.slice(0, MAX_ISSUES);
  }
  return checkReferences(raw).slice(0, MAX_ISSUES);
}

/** Validates and returns `raw` typed; throws {@link ElectionError} `config_invalid` listing every issue. */
export function validateElectionConfig(raw: unknown, source = 'election config'): ElectionConfig {
  const issues = checkElectionConfig(raw);
  if (issues.length > 0) {
    throw new ElectionError('config_invalid', `${source} is invalid (${issues.length} issues):`, { issues });
  }
  return raw as ElectionConfig;
}

/** `/districts/3/races/1` → `districts[3].races[1]`. */
export function readablePath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

function child(path: string, property: string): string {
  return path === '' ? property : `${path}.${property}`;
}

function ajvIssue(error: ErrorObject): ElectionIssue {
  const path = readablePath(error.instancePath);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: child(path, String(p.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: child(path, String(p.additionalProperty)), message: 'is not a known property' };
    case 'enum':
      return {
        path,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${show(error.data)})`,
      };
    case 'pattern':
      return { path, message: `must match ${String(p.pattern)} (got ${show(error.data)})` };
    case 'uniqueItems':
      return { path, message: `items ${String(p.i)} and ${String(p.j)} are the same` };
    default:
      return { path, message: `${error.message ?? 'is invalid'} (got ${show(error.data)})` };
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function dedupe(issues: ElectionIssue[]): ElectionIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Records ids in file order and reports the second use of any of them. */
function uniqueIds(
  issues: ElectionIssue[],
  what: string,
  ids: readonly string[],
  at: (i: number) => string,
  field = 'id',
): Map<string, number> {
  const first = new Map<string, number>();
  ids.forEach((id, i) => {
    const seen = first.get(id);
    if (seen === undefined) first.set(id, i);
    else
      issues.push({
        path: `${at(i)}.${field}`,
        message: `duplicate ${what} ${field} "${id}" (first at ${at(seen)})`,
      });
  });
  return first;
}

const ids = (items: readonly { readonly id: string }[]): string[] => items.map((item) => item.id);

function utcMs(issues: ElectionIssue[], path: string, value: string): number {
  const ms = Date.parse(value);
  // The pattern already fixed the form; this catches dates that do not exist (2021-02-30).
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== value.slice(0, 19)) {
    issues.push({ path, message: `is not a real date and time (got "${value}")` });
    return Number.NaN;
  }
  return ms;
}

/** `opens` < `closes`, both real instants (the election's window or a precinct's). */
function checkWindow(
  issues: ElectionIssue[],
  prefix: string,
  w: { readonly opens: string; readonly closes: string },
): void {
  const opens = utcMs(issues, `${prefix}opens`, w.opens);
  const closes = utcMs(issues, `${prefix}closes`, w.closes);
  if (opens >= closes) issues.push({ path: `${prefix}closes`, message: `must be after opens (${w.opens})` });
}

function checkReferences(c: ElectionConfig): ElectionIssue[] {
  const issues: ElectionIssue[] = [];

  checkWindow(issues, '', c);

  const regionCodes = c.regions.map((r) => r.code);
  const regions = uniqueIds(issues, 'region', regionCodes, (i) => `regions[${i}]`, 'code');
  checkPartitions(issues, c);

  const branches = uniqueIds(issues, 'party branch', ids(c.partyBranches), (i) => `partyBranches[${i}]`);
  const races = uniqueIds(issues, 'race', ids(c.races), (i) => `races[${i}]`);
  c.races.forEach((race, r) => {
    uniqueIds(issues, 'candidate', ids(race.candidates), (i) => `races[${r}].candidates[${i}]`);
    race.candidates.forEach((k, i) => {
      if (!branches.has(k.partyBranch)) {
        issues.push({
          path: `races[${r}].candidates[${i}].partyBranch`,
          message: `unknown party branch "${k.partyBranch}"`,
        });
      }
    });
    if (race.maxChoices > race.candidates.length) {
      issues.push({
        path: `races[${r}].maxChoices`,
        message: `${race.maxChoices} is more than the race's ${race.candidates.length} candidates`,
      });
    }
  });

  const districts = uniqueIds(issues, 'district', ids(c.districts), (i) => `districts[${i}]`);
  const withDistricts = new Set<string>();
  const usedRaces = new Set<string>();
  c.districts.forEach((d, i) => {
    if (!regions.has(d.region)) {
      issues.push({ path: `districts[${i}].region`, message: `unknown region "${d.region}"` });
    }
    withDistricts.add(d.region);
    d.races.forEach((race, j) => {
      usedRaces.add(race);
      if (!races.has(race))
        issues.push({ path: `districts[${i}].races[${j}]`, message: `unknown race "${race}"` });
    });
  });
  c.regions.forEach((r, i) => {
    if (!withDistricts.has(r.code))
      issues.push({ path: `regions[${i}]`, message: `region "${r.code}" has no districts` });
  });
  c.races.forEach((race, i) => {
    // A race no district offers can never receive a ballot: almost surely a typo elsewhere.
    if (!usedRaces.has(race.id))
      issues.push({ path: `races[${i}]`, message: `race "${race.id}" is in no district` });
  });

  uniqueIds(issues, 'paper precinct', ids(c.paperPrecincts), (i) => `paperPrecincts[${i}]`);
  c.paperPrecincts.forEach((p, i) => {
    if (!districts.has(p.district)) {
      issues.push({ path: `paperPrecincts[${i}].district`, message: `unknown district "${p.district}"` });
    }
    checkWindow(issues, `paperPrecincts[${i}].`, p);
  });
  // Unique across the election, not per precinct: an official's token names one precinct.
  const officials = c.paperPrecincts.flatMap((p, i) =>
    p.officials.map((o, j) => ({ id: o.id, at: `paperPrecincts[${i}].officials[${j}]` })),
  );
  uniqueIds(issues, 'official', ids(officials), (i) => officials[i]!.at);
  uniqueIds(issues, 'operator', ids(c.operators ?? []), (i) => `operators[${i}]`);
  uniqueIds(issues, 'committee member', ids(c.committee ?? []), (i) => `committee[${i}]`);
  return issues;
}

/**
 * Partitions belong to exactly one region (the producer picks them by region,
 * DESIGN §4) and together are 0..N-1, because N is the topic's partition
 * count and a gap would be a partition nobody writes to.
 */
function checkPartitions(issues: ElectionIssue[], c: ElectionConfig): void {
  const owner = new Map<number, number>();
  let max = -1;
  c.regions.forEach((region, i) => {
    region.partitions.forEach((p, j) => {
      const seen = owner.get(p);
      if (seen !== undefined && seen !== i) {
        issues.push({
          path: `regions[${i}].partitions[${j}]`,
          message: `partition ${p} is already used by regions[${seen}]`,
        });
      }
      if (seen === undefined) owner.set(p, i);
      if (p > max) max = p;
    });
  });
  const missing: number[] = [];
  for (let p = 0; p <= max; p++) if (!owner.has(p)) missing.push(p);
  if (missing.length > 0) {
    issues.push({
      path: 'regions',
      message: `partitions must be contiguous 0..${max}; missing ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
    });
  }
}
