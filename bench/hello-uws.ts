/**
 * The baseline: uWebSockets.js hello world, loaded through the same native
 * loader as ingest, on the port given as argv[2].
 */
import { loadUws } from '../common/uws.js';

const port = Number(process.argv[2]);
const uws = loadUws();
uws
  .App()
  .get('/*', (res) => {
    res.end('Hello World!');
  })
  .listen(port, (socket) => {
    if (socket === false) {
      process.stderr.write(`cannot listen on ${port}\n`);
      process.exit(1);
    }
    process.stdout.write('listening\n');
  });
