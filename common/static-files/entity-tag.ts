/**
 * Entity tags and `If-None-Match` (RFC 9110 §8.8.3, §13.1.2).
 *
 * Each representation gets its own strong tag: `"<hash>"` for the plain bytes,
 * `"<hash>-br"` and `"<hash>-gzip"` for the compressed ones, because "a strong
 * entity tag for a content-encoded representation has to be distinct from
 * the entity tag of an unencoded representation" (§8.8.3). The hash is of the
 * plain bytes, so every variant's tag changes when the content does.
 */
import { createHash } from 'node:crypto';
import type { Coding } from './accept-encoding.js';

/** The strong tag of `body` sent with `coding` (27 base64url characters of SHA-256: 162 bits). */
export function entityTag(body: Buffer, coding: Coding): string {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return coding === 'identity' ? `"${hash}"` : `"${hash}-${coding}"`;
}

/** The opaque part of a tag, without `W/`: weak comparison compares only this (§8.8.3.2). */
const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

/**
 * Whether `If-None-Match` matches the selected representation's tag, so a
 * GET or HEAD is answered `304 Not Modified` (§13.1.2): `*` matches any
 * current representation; otherwise a comma-separated list of tags, compared
 * weakly (`W/"x"` matches `"x"`). Quoted tags may contain commas, so the
 * list is scanned tag by tag, not split. An empty header never matches.
 */
export function ifNoneMatchMatches(header: string, tag: string): boolean {
  const field = header.trim();
  if (field === '') return false;
  if (field === '*') return true;
  const want = opaque(tag);
  let i = 0;
  while (i < field.length) {
    while (i < field.length && (field[i] === ',' || field[i] === ' ' || field[i] === '\t')) i++;
    if (i >= field.length) break;
    const start = i;
    if (field.startsWith('W/', i)) i += 2;
    if (field[i] !== '"') {
      // Not a tag (a client bug): skip to the next element.
      while (i < field.length && field[i] !== ',') i++;
      continue;
    }
    const close = field.indexOf('"', i + 1);
    if (close < 0) return false;
    if (opaque(field.slice(start, close + 1)) === want) return true;
    i = close + 1;
  }
  return false;
}
