/**
 * `npm run paper -- protocol --key <station.pem> --token-file <file> <protocol.json>`:
 * signs a precinct protocol with the station key and submits it
 * (`POST /v1/paper/protocols`) with an official's token of that precinct.
 *
 * protocol.json is the protocol in the record's shape (common/records.ts)
 * without `keyId` and `signature`, which this command fills in:
 *
 *   {"v":1,"kind":"protocol","election":"sample","region":"KZ-10","district":"D-10-1",
 *    "precinct":"P-10-1","version":1,"reason":"","issued":412,"spoiled":3,"unused":88,
 *    "results":[["R-1","C-1","250"],["R-1","C-2","159"]]}
 *
 * Prints the answer (`accepted` / `repeated`) or the refusal's code and
 * message (which names the wrong line) and exits non-zero on a refusal.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type PaperProtocol, protocolSignedBytes } from '../../common/records.js';
import { stationKeyId } from '../../election/index.js';

export const PROTOCOL_USAGE = `usage: npm run paper -- protocol --key <station.pem> --token-file <file> [--url <ingest>] <protocol.json>

  --key         the polling station's key (keys/<election>/precincts/<precinct>.pem)
  --token-file  a file holding an official's staff token of that precinct
  --url         ingest's voting port (default http://127.0.0.1:$INGEST_PORT)`;

/** A protocol signed by a station key: what `POST /v1/paper/protocols` takes. */
export type SignedProtocol = PaperProtocol & { readonly signature: string };

/** Fills in `keyId` and signs the protocol's canonical bytes with the station key (Ed25519). */
export function signProtocol(protocol: Omit<PaperProtocol, 'keyId'>, stationKey: KeyObject): SignedProtocol {
  const signed: PaperProtocol = { ...protocol, keyId: stationKeyId(createPublicKey(stationKey)) };
  return { ...signed, signature: sign(null, protocolSignedBytes(signed), stationKey).toString('base64url') };
}

/** Submits a signed protocol; resolves the HTTP status and the parsed body. */
export async function submitProtocol(
  url: string,
  token: string,
  protocol: SignedProtocol,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL('/v1/paper/protocols', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(protocol),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** The `protocol` subcommand; returns the exit code. */
export async function protocolCommand(argv: readonly string[], defaultUrl: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      key: { type: 'string' },
      'token-file': { type: 'string' },
      url: { type: 'string', default: defaultUrl },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  const [file, ...rest] = positionals;
  if (values.help || file === undefined || rest.length > 0 || !values.key || !values['token-file']) {
    process.stderr.write(`${PROTOCOL_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const key = createPrivateKey(await readFile(values.key));
  const token = (await readFile(values['token-file'], 'utf8')).trim();
  const protocol = JSON.parse(await readFile(file, 'utf8')) as Omit<PaperProtocol, 'keyId'>;
  const { status, body } = await submitProtocol(values.url, token, signProtocol(protocol, key));
  process.stdout.write(`${status} ${JSON.stringify(body)}\n`);
  return status === 200 || status === 201 ? 0 : 1;
}
