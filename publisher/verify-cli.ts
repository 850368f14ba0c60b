/**
 * `npm run verify -- <dir or URL> [--key <spki base64url>]`
 *
 * Checks every published snapshot (verify.ts) and exits 0 with a summary,
 * 1 naming the first problem (`verify: bad_signature: snapshot 3: …`), or 2
 * on a usage error.
 */
import { parseArgs } from 'node:util';
import { isPublisherError } from './errors.js';
import { exists, publishedFiles, verifyPublished } from './verify.js';

const USAGE = 'usage: npm run verify -- <dir or URL> [--key <Ed25519 SPKI DER, base64url>]';

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
  try {
    const report = await verifyPublished(publishedFiles(target), {
      ...(parsed.values.key === undefined ? {} : { spki: parsed.values.key }),
    });
    process.stdout.write(
      `ok: ${report.snapshots} snapshot(s) of ${report.election} signed, chained and adding up; head ${report.head}\n`,
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
  return parseArgs({ args: [...argv], allowPositionals: true, options: { key: { type: 'string' } } });
}

process.exitCode = await main(process.argv.slice(2));
