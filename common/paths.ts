import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: every relative path in the config is resolved against it. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
