/**
 * Paper-channel test helpers: a copy of the sample election whose polling
 * stations have closed (protocols are taken only after), except the ones
 * named open; the station keys and staff tokens a station's commission and
 * an observer would hold; protocols built as a commission fills them in.
 */
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../common/paths.js';
import { type PaperProtocol, type PaperResult, paperProtocol } from '../common/records.js';
import {
  type ElectionIndex,
  issueDevStaffToken,
  loadElection,
  type PaperPrecinct,
  readKeys,
  stationKeyPath,
} from '../election/index.js';
import { type SignedProtocol, signProtocol } from '../ingest/paper/protocol.js';
import { initElection, outputDir } from './ingest.harness.js';
import { config } from './support/stack.js';

/**
 * The sample election under `id`; its stations close at `closes` (default:
 * closed since 2021), except `open` (open until 2099).
 */
export async function preparePaperElection(
  id: string,
  open: readonly string[] = [],
  rollSize = 2_000,
  closes = '2021-01-01T00:00:00Z',
): Promise<{ path: string; index: ElectionIndex }> {
  mkdirSync(outputDir, { recursive: true });
  const sample = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'sample.json'), 'utf8'));
  const config = {
    ...sample,
    id,
    opens: '2020-01-01T00:00:00Z',
    closes: '2099-12-31T23:59:59Z',
    sampleRoll: { seed: id, size: rollSize },
    paperPrecincts: sample.paperPrecincts.map((p: PaperPrecinct) => ({
      ...p,
      opens: '2020-01-01T00:00:00Z',
      closes: open.includes(p.id) ? '2099-12-31T23:59:59Z' : closes,
    })),
  };
  const path = join(outputDir, `${id}.json`);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  await initElection(path);
  return { path, index: loadElection(path) };
}

/** A staff token as the dev issuer signs it (`official` of a precinct, or `observer`). */
export async function staffToken(
  index: ElectionIndex,
  staff: { role: 'official' | 'observer'; id: string; precinct?: string },
): Promise<string> {
  return issueDevStaffToken(await readKeys(config.stackDir, index.id), index, staff);
}

/** The station key file as handed to the station. */
export async function stationKey(index: ElectionIndex, precinct: string) {
  return createPrivateKey(await readFile(stationKeyPath(config.stackDir, index.id, precinct)));
}

/**
 * A protocol of `precinct` that passes every check: `votes(race, candidate index)`
 * per candidate (default: all to the first), issued/spoiled as given.
 */
export function protocolOf(
  index: ElectionIndex,
  precinct: string,
  p: {
    version?: number;
    reason?: string;
    issued: number;
    spoiled?: number;
    unused?: number;
    votes?: (race: string, candidate: number) => number;
    results?: readonly PaperResult[];
  },
): Omit<PaperProtocol, 'keyId'> {
  const station = index.config.paperPrecincts.find((s) => s.id === precinct)!;
  const district = index.district(station.district)!;
  const spoiled = p.spoiled ?? 0;
  const votes = p.votes ?? ((_race: string, i: number) => (i === 0 ? p.issued - spoiled : 0));
  const { keyId: _keyId, ...protocol } = paperProtocol({
    election: index.id,
    region: district.region,
    district: district.id,
    precinct,
    version: p.version ?? 1,
    reason: p.reason ?? '',
    issued: p.issued,
    spoiled,
    unused: p.unused ?? 0,
    results:
      p.results ??
      index
        .racesOf(district.id)
        .flatMap((race) =>
          race.candidates.map((c, i) => ({ race: race.id, candidate: c.id, votes: votes(race.id, i) })),
        ),
    keyId: '',
  });
  return protocol;
}

/** Signs with the precinct's own station key. */
export async function signedProtocolOf(
  index: ElectionIndex,
  precinct: string,
  p: Parameters<typeof protocolOf>[2],
): Promise<SignedProtocol> {
  return signProtocol(protocolOf(index, precinct, p), await stationKey(index, precinct));
}
