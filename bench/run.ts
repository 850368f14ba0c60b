/**
 * `npm run bench -- <name>`: runs `bench/<name>.bench.ts`.
 */
const name = process.argv[2];
if (name === undefined || !/^[a-z-]+$/.test(name)) {
  process.stderr.write('usage: npm run bench -- <name>   (e.g. ingest)\n');
  process.exit(2);
}
await import(`./${name}.bench.ts`);
