/**
 * Child process: signs a range of credentials for the cache (`credentials.ts`).
 * argv: <keysetDir> <electionPath> <electionId> <from> <count> <outFile>
 */
import { writeFile } from 'node:fs/promises';
import { loadElection, readKeys } from '../../election/index.js';
import { signCredentials } from '../credentials.js';

const [keysetDir, electionPath, electionId, from, count, out] = process.argv.slice(2);
if (out === undefined) {
  process.stderr.write(
    'usage: sign-credentials <keysetDir> <electionPath> <electionId> <from> <count> <out>\n',
  );
  process.exit(2);
}
const index = loadElection(electionPath!);
const keys = await readKeys(keysetDir!, electionId!);
await writeFile(out, signCredentials(index, keys, Number(from), Number(count)));
