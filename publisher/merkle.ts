/**
 * The Merkle root of a snapshot's counted ballot codes: RFC 6962 §2.1
 * (Certificate Transparency), with SHA-256, over the codes sorted ascending.
 *
 *   leaf(code)   = SHA-256(0x00 ‖ ASCII(code))
 *   node(l, r)   = SHA-256(0x01 ‖ l ‖ r)
 *   MTH([])      = SHA-256("")
 *   MTH([c])     = leaf(c)
 *   MTH(D[0:n])  = node(MTH(D[0:k]), MTH(D[k:n]))   k = largest power of 2 < n
 *
 *             root
 *           /      \
 *        n01        n2        (5 leaves: k = 4, the odd one is not duplicated)
 *       /   \        \
 *     n0    n1       l4
 *    / \   / \
 *   l0 l1 l2 l3
 *
 * The 0x00/0x01 prefixes keep a leaf from posing as an inner node (second
 * preimage). RFC 6962 was chosen because it is specified to the byte and
 * widely implemented: https://www.rfc-editor.org/rfc/rfc6962#section-2.1
 *
 * Built bottom-up, pairing left to right and carrying an odd last node up
 * unchanged, which yields exactly the RFC's split-at-k recursion.
 */
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function merkleLeaf(code: string): Buffer {
  return createHash('sha256').update(LEAF).update(code, 'ascii').digest();
}

function merkleNode(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** Hex Merkle root of `codes`, which must already be sorted and distinct. */
export function merkleRoot(codes: readonly string[]): string {
  if (codes.length === 0) return createHash('sha256').digest('hex');
  let level: Buffer[] = codes.map(merkleLeaf);
  while (level.length > 1) {
    const next: Buffer[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0; i + 1 < level.length; i += 2) next[i >> 1] = merkleNode(level[i]!, level[i + 1]!);
    if (level.length % 2 === 1) next[next.length - 1] = level[level.length - 1]!;
    level = next;
  }
  return level[0]!.toString('hex');
}

/** The codes file body: one code per line, each line ending in `\n`. */
export function codesFileText(codes: readonly string[]): string {
  return codes.length === 0 ? '' : `${codes.join('\n')}\n`;
}

/** Parses a codes file; `null` if it is not sorted, distinct and newline-terminated. */
export function parseCodesFile(text: string): string[] | null {
  if (text === '') return [];
  if (!text.endsWith('\n')) return null;
  const codes = text.slice(0, -1).split('\n');
  for (let i = 1; i < codes.length; i++) if (!(codes[i - 1]! < codes[i]!)) return null;
  return codes.every((c) => c.length > 0) ? codes : null;
}
