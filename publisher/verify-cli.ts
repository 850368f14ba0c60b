/**
 * `npm run verify -- <dir or URL> [--key <spki base64url>] [--state <file>]`
 *
 * Checks every published snapshot (verify.ts) with a pinned key, and that the
 * chain only grew since the head this state file saw last (verify-trust.ts;
 * default `~/.local/state/saylau/verify.json`). Exits 0 with a summary, 1
 * naming the first problem (`verify: rolled_back_head: …`), or 2 on a usage
 * error. The state is saved only after a run that passes.
 */
import { parseArgs } from 'node:util';
import { isPublisherError } from './errors.js';
import { exists, publishedFiles, publishedSnapshotKey, readLatest, verifyPublished } from './verify.js';
import { chooseKey, DEFAULT_STATE_PATH, nextEntry, readTrustState, writeTrustState } from './verify-trust.js';

const USAGE = 'usage: npm run verify -- <dir or URL> [--key <Ed25519 SPKI DER, base64url>] [--state <file>]';

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const target = parsed.positionals[0];
  if (target === undefined || parsed.positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (!/^https?:\/\//.test(target) && !(await exists(target))) {
    process.stderr.write(`verify: ${target} does not exist\n`);
    return 2;
  }
  const statePath = parsed.values.state ?? DEFAULT_STATE_PATH;
  try {
    const files = publishedFiles(target);
    const election = (await readLatest(files)).election.id;
    const state = await readTrustState(statePath);
    const entry = state.elections[election];
    const choice = await chooseKey(
      entry,
      parsed.values.key,
      async () => ({
        spki: await publishedSnapshotKey(files, election),
        from: `${files.describe}${files.describe.endsWith('/') ? '' : '/'}elections/${election}.json`,
      }),
      statePath,
    );
    const report = await verifyPublished(files, { spki: choice.spki, seen: entry?.head ?? null });
    const saved = nextEntry(
      choice,
      { seq: report.snapshots, hash: report.head, takenAt: report.takenAt },
      new Date(),
    );
    await writeTrustState(statePath, { v: 1, elections: { ...state.elections, [election]: saved } });
    if (choice.pinned === 'now') {
      const firstUse = choice.from !== '--key';
      process.stderr.write(
        [
          `verify: ${firstUse ? 'WARNING: no key was pinned for' : 'pinned the --key given for'} ${election}${firstUse ? `; PINNED the key the target publishes (${choice.from})` : ''}`,
          `verify: pinned key fingerprint (SHA-256 of its SPKI DER): ${saved.keyFingerprint}`,
          `verify: saved in ${statePath}; later runs accept only this key and a chain that grows from snapshot ${report.snapshots}`,
          ...(firstUse
            ? [
                'verify: compare the fingerprint with one the commission announced: trusted on first use, it only proves the site agrees with itself',
              ]
            : []),
          '',
        ].join('\n'),
      );
    }
    const grew =
      entry?.head == null
        ? 'first check of this chain'
        : `grew from snapshot ${entry.head.seq} to ${report.snapshots}`;
    process.stdout.write(
      `ok: ${report.snapshots} snapshot(s) of ${report.election} signed, chained and adding up; every counted code still counted; ${grew}; head ${report.head}; key ${saved.keyFingerprint}\n`,
    );
    return 0;
  } catch (error) {
    if (isPublisherError(error)) {
      process.stderr.write(`verify: ${error.code}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`verify: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { key: { type: 'string' }, state: { type: 'string' } },
  });
}

process.exitCode = await main(process.argv.slice(2));
