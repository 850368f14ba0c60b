// In-browser verification of published snapshots: the same rules as
// publisher/verify.ts, written again in plain JS so that checking the
// results needs nothing but a browser (WebCrypto Ed25519 and SHA-256).
// The rules are documented in publisher/README.md.

const enc = new TextEncoder();

/** Canonical JSON: sorted keys, no whitespace, integers only (RFC 8785 for integer documents). */
export function canonicalJson(value) {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`${value} is not a safe integer`);
    return String(value === 0 ? 0 : value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  throw new Error(`${typeof value} has no JSON form`);
}

export function canonicalBytes(snapshot) {
  const { signature: _signature, ...rest } = snapshot;
  return enc.encode(canonicalJson(rest));
}

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = (bytes) => crypto.subtle.digest('SHA-256', bytes);

function base64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export async function importSnapshotKey(spki) {
  return crypto.subtle.importKey('spki', base64url(spki), { name: 'Ed25519' }, false, ['verify']);
}

export async function snapshotHash(snapshot) {
  return hex(await sha256(canonicalBytes(snapshot)));
}

/** RFC 6962 Merkle tree hash over the sorted codes (see publisher/merkle.ts). */
export async function merkleRoot(codes) {
  if (codes.length === 0) return hex(await sha256(new Uint8Array(0)));
  let level = await Promise.all(
    codes.map((c) => {
      const b = enc.encode(`\0${c}`);
      return sha256(b);
    }),
  );
  while (level.length > 1) {
    const pairs = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      const buf = new Uint8Array(65);
      buf[0] = 1;
      buf.set(new Uint8Array(level[i]), 1);
      buf.set(new Uint8Array(level[i + 1]), 33);
      pairs.push(sha256(buf));
    }
    const next = await Promise.all(pairs);
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return hex(level[0]);
}

function sumsProblem(s) {
  for (const race of s.races) {
    const removed = new Set(race.candidates.filter((c) => c.status === 'removed').map((c) => c.id));
    const check = (counts, where) => {
      let valid = 0;
      let excluded = 0;
      for (const k of counts.candidates) {
        if (k.total !== k.online + k.paper) return `${where}: ${k.id} total ≠ online + paper`;
        if (removed.has(k.id)) excluded += k.total;
        else valid += k.total;
      }
      if (valid !== counts.valid || excluded !== counts.excluded)
        return `${where}: valid/excluded do not add up`;
      return null;
    };
    const p = check(race.total, `race ${race.id}`);
    if (p) return p;
    for (let i = 0; i < race.total.candidates.length; i++) {
      let sum = 0;
      for (const r of race.regions) {
        let rs = 0;
        for (const d of r.districts) rs += d.total.candidates[i].total;
        if (rs !== r.total.candidates[i].total)
          return `race ${race.id} region ${r.code}: districts do not add up`;
        sum += r.total.candidates[i].total;
      }
      if (sum !== race.total.candidates[i].total) return `race ${race.id}: regions do not add up`;
    }
  }
  if (s.codes.count !== s.turnout.total.castOnline) return 'codes ≠ online ballots cast';
  return null;
}

/**
 * Verifies snapshots 1..latest.seq; `fetchJson(path)` returns parsed JSON or
 * null, `fetchText(path)` text or null; `onStep(seq)` reports progress.
 * Resolves `{ok: true, count}` or `{ok: false, problem}`.
 */
export async function verifyChain({ latest, spki, fetchJson, fetchText, onStep, onMerkle }) {
  let key;
  try {
    key = await importSnapshotKey(spki);
  } catch (e) {
    return { ok: false, problem: `the snapshot key cannot be imported (${e.message})` };
  }
  let prevHash = null;
  let prev = null;
  for (let seq = 1; seq <= latest.seq; seq++) {
    const s = await fetchJson(`snapshots/${seq}.json`);
    if (s === null) return { ok: false, problem: `snapshot ${seq} is missing` };
    if (s.seq !== seq) return { ok: false, problem: `snapshots/${seq}.json holds snapshot ${s.seq}` };
    const good = await crypto.subtle.verify(
      { name: 'Ed25519' },
      key,
      base64url(s.signature),
      canonicalBytes(s),
    );
    if (!good) return { ok: false, problem: `snapshot ${seq}: the signature does not verify` };
    if (s.prevHash !== prevHash) return { ok: false, problem: `snapshot ${seq}: prevHash breaks the chain` };
    if (prev !== null && s.takenAt < prev.takenAt)
      return { ok: false, problem: `snapshot ${seq} is older than ${seq - 1}` };
    const p = sumsProblem(s);
    if (p) return { ok: false, problem: `snapshot ${seq}: ${p}` };
    prevHash = await snapshotHash(s);
    prev = s;
    onStep(seq);
  }
  if ((await snapshotHash(latest)) !== prevHash)
    return { ok: false, problem: 'latest.json is not the newest snapshot' };
  const text = await fetchText(latest.codes.file);
  if (text === null) return { ok: false, problem: `${latest.codes.file} is missing` };
  const codes = text === '' ? [] : text.slice(0, -1).split('\n');
  if (codes.length !== latest.codes.count)
    return { ok: false, problem: `${latest.codes.file}: wrong number of codes` };
  if ((await merkleRoot(codes)) !== latest.codes.merkleRoot) {
    return { ok: false, problem: `${latest.codes.file}: the Merkle root does not match` };
  }
  onMerkle();
  return { ok: true, count: latest.seq };
}
