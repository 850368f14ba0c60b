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

/** First code of sorted `before` missing from sorted `after`, or null (publisher/verify.ts `firstMissing`). */
export function firstMissing(before, after) {
  let j = 0;
  for (const code of before) {
    while (j < after.length && after[j] < code) j++;
    if (after[j] !== code) return code;
    j++;
  }
  return null;
}

const parseCodes = (text) => (text === '' ? [] : text.slice(0, -1).split('\n'));

/** The codes of snapshot `s`, checked against its count and Merkle root; a problem string if not. */
async function codesOf(s, fetchText) {
  const text = await fetchText(s.codes.file);
  if (text === null) return `${s.codes.file} is missing`;
  const codes = parseCodes(text);
  if (codes.length !== s.codes.count) return `${s.codes.file}: wrong number of codes`;
  if ((await merkleRoot(codes)) !== s.codes.merkleRoot)
    return `${s.codes.file}: the Merkle root does not match`;
  return codes;
}

function keysDiffer(a, b) {
  const was = new Map(a.map((k) => [k.id, k.sha256]));
  if (a.length !== b.length) return true;
  return b.some((k) => was.get(k.id) !== k.sha256);
}

async function verifies(key, doc) {
  return crypto.subtle.verify({ name: 'Ed25519' }, key, base64url(doc.signature), canonicalBytes(doc));
}

/**
 * Verifies snapshots 1..latest.seq; `fetchJson(path)` returns parsed JSON or
 * null, `fetchText(path)` text or null; `onStep(seq)` reports progress.
 * `trust` is what this browser kept from its last good run (app.js, in
 * localStorage): `{keyFingerprint, head: {seq, hash}}` or null. The key
 * must be the pinned one; the chain must still hold the head seen before
 * and have only grown from it; every code counted in that head is counted
 * in the latest snapshot (the codes of the two snapshots this browser
 * checks; `npm run verify` checks every pair).
 * Resolves `{ok: true, count, keyFingerprint, head}`, or `{ok: false, code, …}`
 * with a named problem (i18n.js `problems`), or `{ok: false, problem}`.
 */
export async function verifyChain({ latest, spki, trust, fetchJson, fetchText, onStep, onMerkle }) {
  let key;
  try {
    key = await importSnapshotKey(spki);
  } catch (e) {
    return { ok: false, problem: `the snapshot key cannot be imported (${e.message})` };
  }
  const keyFingerprint = hex(await sha256(base64url(spki)));
  if (trust?.keyFingerprint && trust.keyFingerprint !== keyFingerprint) {
    return { ok: false, code: 'key_changed', pinned: trust.keyFingerprint, now: keyFingerprint };
  }
  const seen = trust?.head ?? null;
  const hashes = [];
  let prev = null;
  let atSeen = null;
  for (let seq = 1; seq <= latest.seq; seq++) {
    const s = await fetchJson(`snapshots/${seq}.json`);
    if (s === null) return { ok: false, problem: `snapshot ${seq} is missing` };
    if (s.seq !== seq) return { ok: false, problem: `snapshots/${seq}.json holds snapshot ${s.seq}` };
    if (!(await verifies(key, s)))
      return { ok: false, problem: `snapshot ${seq}: the signature does not verify` };
    if (s.prevHash !== (hashes[seq - 2] ?? null))
      return { ok: false, problem: `snapshot ${seq}: prevHash breaks the chain` };
    if (prev !== null && s.takenAt < prev.takenAt)
      return { ok: false, problem: `snapshot ${seq} is older than ${seq - 1}` };
    if (prev !== null && keysDiffer(prev.districtKeys, s.districtKeys))
      return { ok: false, code: 'district_keys_changed', where: `snapshot ${seq}` };
    const p = sumsProblem(s);
    if (p) return { ok: false, problem: `snapshot ${seq}: ${p}` };
    hashes.push(await snapshotHash(s));
    if (seen !== null && seq === seen.seq) atSeen = s;
    prev = s;
    onStep(seq);
  }
  const head = hashes[latest.seq - 1];
  if ((await snapshotHash(latest)) !== head)
    return { ok: false, problem: 'latest.json is not the newest snapshot' };
  const grown = await growsFrom(seen, latest, hashes, key, fetchJson);
  if (grown !== null) return grown;
  const statement = await fetchJson('keys.json');
  if (statement !== null) {
    if (!(await verifies(key, statement)))
      return { ok: false, problem: 'keys.json: the signature does not verify' };
    if (statement.election !== latest.election.id || keysDiffer(statement.districtKeys, latest.districtKeys))
      return { ok: false, code: 'district_keys_changed', where: 'keys.json' };
  }
  const codes = await codesOf(latest, fetchText);
  if (typeof codes === 'string') return { ok: false, problem: codes };
  if (atSeen !== null && seen.seq < latest.seq) {
    const before = await codesOf(atSeen, fetchText);
    if (typeof before === 'string') return { ok: false, problem: before };
    const gone = firstMissing(before, codes);
    if (gone !== null) return { ok: false, code: 'code_disappeared', gone, from: seen.seq, to: latest.seq };
  }
  onMerkle();
  return { ok: true, count: latest.seq, keyFingerprint, head: { seq: latest.seq, hash: head } };
}

/** The chain still holds the head seen before, unchanged; null if so, else the named problem. */
async function growsFrom(seen, latest, hashes, key, fetchJson) {
  if (seen === null) return null;
  if (latest.seq >= seen.seq)
    return hashes[seen.seq - 1] === seen.hash ? null : { ok: false, code: 'forked_chain', seq: seen.seq };
  const s = await fetchJson(`snapshots/${seen.seq}.json`);
  if (s === null) return { ok: false, code: 'truncated_chain', served: latest.seq, seen: seen.seq };
  if (!(await verifies(key, s)))
    return { ok: false, problem: `snapshot ${seen.seq}: the signature does not verify` };
  if ((await snapshotHash(s)) !== seen.hash) return { ok: false, code: 'forked_chain', seq: seen.seq };
  return { ok: false, code: 'rolled_back_head', served: latest.seq, seen: seen.seq };
}
