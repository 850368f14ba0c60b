/**
 * The fixed size of every `POST /v1/ballots` body of an election (DESIGN §4:
 * size is a side channel) and the padding that reaches it. One module for
 * both sides: ingest computes the size from the manifest and publishes it in
 * the election summary (`ballotBytes`), the voter page (bundled by esbuild,
 * so this file imports nothing and uses no Node API) pads its body with
 * {@link ballotBody} to that size — the page no longer sees every district,
 * so it cannot compute the size itself.
 */

/** The API's body limit (ingest/http/body.ts). */
const MAX_BODY = 8192;
/** A prepared message: 32-byte random prefix ‖ 32-byte message, base64url. */
const MESSAGE_CHARS = 86;

export interface Selection {
  readonly race: string;
  readonly choices: readonly string[];
}

/** What the size depends on: the manifest (election/manifest.ts) has these fields. */
export interface BallotShape {
  readonly id: string;
  readonly districts: readonly {
    readonly id: string;
    readonly races: readonly string[];
    readonly key: { readonly spki: string };
  }[];
  readonly races: readonly {
    readonly id: string;
    readonly maxChoices: number;
    readonly candidates: readonly { readonly id: string }[];
  }[];
}

/** Bytes held by unpadded base64url text. */
const b64uBytes = (text: string): number => Math.floor((text.length * 3) / 4);

/**
 * Every ballot request of this election is padded to this many bytes: the
 * largest body any district's ballot can make (longest ids, `maxChoices`
 * marks in every race, the widest key), rounded up to 1 KiB, at most the
 * 8 KiB limit. A pure function of the manifest, so all voters of an
 * election send the same size.
 */
export function ballotBytes(manifest: BallotShape): number {
  const widestKey = Math.max(...manifest.districts.map((d) => b64uBytes(d.key.spki)));
  const signature = 'x'.repeat(Math.ceil((widestKey * 4) / 3));
  const races = new Map(manifest.races.map((r) => [r.id, r]));
  let largest = 0;
  for (const district of manifest.districts) {
    const selections = district.races.flatMap((id) => {
      const race = races.get(id);
      if (race === undefined) return [];
      const longest = race.candidates.map((c) => c.id).sort((a, b) => b.length - a.length);
      return [{ race: race.id, choices: longest.slice(0, race.maxChoices) }];
    });
    largest = Math.max(
      largest,
      ballotBody(manifest.id, district.id, 'x'.repeat(MESSAGE_CHARS), signature, selections, 0).length,
    );
  }
  return Math.min(MAX_BODY, Math.ceil(largest / 1024) * 1024);
}

/**
 * `POST /v1/ballots` body with a `pad` of spaces (the API's schema allows
 * `pad: "^ *$"` and ignores it) making it exactly `size` bytes. Ids are
 * ASCII, so characters are bytes.
 */
export function ballotBody(
  election: string,
  district: string,
  message: string,
  signature: string,
  selections: readonly Selection[],
  size: number,
): string {
  const bare = JSON.stringify({
    election,
    district,
    credential: { message, signature },
    selections,
    pad: '',
  });
  const pad = Math.max(0, size - bare.length);
  return `${bare.slice(0, -2)}${' '.repeat(pad)}"}`;
}
