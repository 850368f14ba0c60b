/**
 * Proactive negotiation of the content coding (RFC 9110 §12.5.3
 * `Accept-Encoding`), for the few codings we precompress: `br`, `gzip` and
 * `identity` (no coding).
 *
 *   "br;q=1.0, gzip;q=0.8, *;q=0.1"  ──parse──►  [{br,1000}, {gzip,800}, {*,100}]
 *   available [br, gzip, identity]   ──choose─►  br   (highest q; ties: br > gzip > identity)
 *
 * Rules applied (RFC 9110 §12.4.2 qvalues, §12.5.3):
 * - `q=0` means "not acceptable", never "least preferred": `br;q=0` refuses Brotli.
 * - a coding not listed takes the `*` entry's q, or is not acceptable;
 * - `identity` is acceptable unless refused by `identity;q=0` or by `*;q=0`
 *   without its own entry; when acceptable only by default it ranks below
 *   every coding the client listed;
 * - an empty or absent header asks for no coding: identity (an absent header
 *   would allow any, but a client that sends none, like curl without
 *   `--compressed`, expects plain bytes);
 * - `x-gzip` is `gzip` (§8.4.1.3); names are case-insensitive; an element
 *   with a malformed q is ignored.
 *
 * No npm package does this for us: `negotiator` (what `accepts`/Express use)
 * is not installed here, and this is all of it we would use.
 */

export const CODINGS = ['br', 'gzip', 'identity'] as const;
export type Coding = (typeof CODINGS)[number];

/** The value of `Content-Encoding` for a coding; identity sends none. */
export const contentEncoding = (coding: Coding): string | null => (coding === 'identity' ? null : coding);

/** q as thousandths (0–1000), so comparisons are exact. */
interface Preference {
  readonly name: string;
  readonly q: number;
}

/** q for identity when the client did not mention it: acceptable, after everything it listed. */
const IMPLICIT_IDENTITY = 0.5;

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** Parses `Accept-Encoding` into its elements; malformed elements are dropped. */
export function parseAcceptEncoding(header: string): Preference[] {
  const out: Preference[] = [];
  for (const element of header.split(',')) {
    const [rawName, ...params] = element.split(';');
    let name = rawName!.trim().toLowerCase();
    if (name === '') continue;
    if (name === 'x-gzip') name = 'gzip';
    let q = 1000;
    let valid = true;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const value = param.slice(eq + 1).trim();
      if (!QVALUE.test(value)) valid = false;
      else q = Math.round(Number(value) * 1000);
    }
    if (valid) out.push({ name, q });
  }
  return out;
}

/** The q (thousandths) the client gives `coding`; 0 = not acceptable. */
function qualityOf(prefs: readonly Preference[], coding: Coding): number {
  let star: number | null = null;
  for (const p of prefs) {
    if (p.name === coding) return p.q;
    if (p.name === '*' && star === null) star = p.q;
  }
  if (star !== null) return star;
  return coding === 'identity' ? IMPLICIT_IDENTITY : 0;
}

/**
 * The coding to answer with, among `available` (in the server's order of
 * preference, used to break ties), or `null` when none is acceptable — the
 * caller answers `406 Not Acceptable` (RFC 9110 §12.1, §15.5.7), which only
 * happens when the client refuses identity and we hold no coding it takes.
 */
export function chooseCoding(acceptEncoding: string, available: readonly Coding[]): Coding | null {
  const prefs = parseAcceptEncoding(acceptEncoding);
  let best: Coding | null = null;
  let bestQ = 0;
  for (const coding of available) {
    const q = qualityOf(prefs, coding);
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}
