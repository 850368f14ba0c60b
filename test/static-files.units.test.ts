/**
 * The static-file module both sites use (common/static-files/): content
 * coding negotiation with q-values (RFC 9110 §12.5.3), If-None-Match with
 * lists, weak tags and `*` (§13.1.2), one strong tag per coding (§8.8.3),
 * and the precompressed variants and headers a request chooses among.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chooseCoding, parseAcceptEncoding } from '../common/static-files/accept-encoding.js';
import { contentTypeOf } from '../common/static-files/content-type.js';
import { entityTag, ifNoneMatchMatches } from '../common/static-files/entity-tag.js';
import { representSync } from '../common/static-files/representation.js';
import { select } from '../common/static-files/send.js';

const ALL = ['br', 'gzip', 'identity'] as const;
const PLAIN = ['identity'] as const;

describe('Accept-Encoding negotiation', () => {
  it('prefers Brotli, then gzip, among codings the client ranks equally', () => {
    expect(chooseCoding('gzip, deflate, br, zstd', ALL)).toBe('br');
    expect(chooseCoding('gzip, deflate', ALL)).toBe('gzip');
    expect(chooseCoding('*', ALL)).toBe('br');
  });

  it('honours q-values: the highest wins, whatever the order', () => {
    expect(chooseCoding('br;q=0.5, gzip;q=0.8', ALL)).toBe('gzip');
    expect(chooseCoding('gzip;q=0.2, identity;q=0.9, br;q=0.1', ALL)).toBe('identity');
    expect(chooseCoding('BR ; Q=1 , GZIP;q=0.3', ALL)).toBe('br');
  });

  it('treats q=0 as refusal, not as a low preference (br;q=0 gets no Brotli)', () => {
    expect(chooseCoding('br;q=0, gzip', ALL)).toBe('gzip');
    expect(chooseCoding('br;q=0', ALL)).toBe('identity');
    expect(chooseCoding('br;q=0.000, gzip;q=0', ALL)).toBe('identity');
    expect(chooseCoding('*;q=0, gzip', ALL)).toBe('gzip');
  });

  it('falls back to identity: no header, an empty one, or only codings we do not hold', () => {
    expect(chooseCoding('', ALL)).toBe('identity');
    expect(chooseCoding('deflate, zstd', ALL)).toBe('identity');
    expect(chooseCoding('gzip', PLAIN)).toBe('identity');
    // identity acceptable by default ranks below anything listed with q > 0
    expect(chooseCoding('gzip;q=0.1', ['gzip', 'identity'])).toBe('gzip');
  });

  it('finds nothing acceptable when identity is refused and no held coding is wanted (the caller answers 406)', () => {
    expect(chooseCoding('identity;q=0', PLAIN)).toBeNull();
    expect(chooseCoding('*;q=0', ALL)).toBeNull();
    expect(chooseCoding('br, identity;q=0', ['gzip', 'identity'])).toBeNull();
    expect(chooseCoding('*;q=0, identity', ALL)).toBe('identity');
  });

  it('reads x-gzip as gzip and drops elements with a malformed q', () => {
    expect(chooseCoding('x-gzip', ALL)).toBe('gzip');
    expect(parseAcceptEncoding('br;q=2, gzip;q=0.5000, identity;q=abc, deflate;q=0.5')).toEqual([
      { name: 'deflate', q: 500 },
    ]);
    expect(chooseCoding('br;q=1.5', ALL)).toBe('identity');
  });
});

describe('If-None-Match', () => {
  const tag = '"abc"';
  it('matches one tag, any tag of a list, and *', () => {
    expect(ifNoneMatchMatches('"abc"', tag)).toBe(true);
    expect(ifNoneMatchMatches('"x", "abc", "y"', tag)).toBe(true);
    expect(ifNoneMatchMatches('"x","abc"', tag)).toBe(true);
    expect(ifNoneMatchMatches('*', tag)).toBe(true);
  });

  it('compares weakly: W/"abc" matches "abc", and a weak server tag matches too', () => {
    expect(ifNoneMatchMatches('W/"abc"', tag)).toBe(true);
    expect(ifNoneMatchMatches('"x", W/"abc"', tag)).toBe(true);
    expect(ifNoneMatchMatches('"abc"', 'W/"abc"')).toBe(true);
  });

  it('does not match other tags, prefixes, empty or malformed headers', () => {
    expect(ifNoneMatchMatches('', tag)).toBe(false);
    expect(ifNoneMatchMatches('"abcd"', tag)).toBe(false);
    expect(ifNoneMatchMatches('"ab"', tag)).toBe(false);
    expect(ifNoneMatchMatches('abc', tag)).toBe(false);
    expect(ifNoneMatchMatches('"abc', tag)).toBe(false);
    expect(ifNoneMatchMatches('"a,bc", "x"', '"bc"')).toBe(false);
    expect(ifNoneMatchMatches('"a,bc", "x"', '"a,bc"')).toBe(true);
  });
});

describe('representations', () => {
  const text = Buffer.from('Сайлау — выборы — election. '.repeat(200));
  const options = { type: 'text/html; charset=utf-8', cacheControl: 'no-cache', effort: 'fast' } as const;

  it('hold Brotli, gzip and plain variants, each with its own strong tag, Vary and Content-Encoding', () => {
    const rep = representSync(text, { ...options, headers: [['x-content-type-options', 'nosniff']] });
    expect(rep.codings).toEqual(['br', 'gzip', 'identity']);
    const [br, gz, plain] = rep.variants;
    expect(brotliDecompressSync(br!.body)).toEqual(text);
    expect(gunzipSync(gz!.body)).toEqual(text);
    expect(plain!.body).toBe(text);
    expect(new Set(rep.variants.map((v) => v.etag)).size).toBe(3);
    expect(plain!.etag).toBe(entityTag(text, 'identity'));
    expect(br!.etag).toBe(entityTag(text, 'br'));
    expect(Object.fromEntries(br!.headers)).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-encoding': 'br',
      vary: 'accept-encoding',
      etag: br!.etag,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    expect(Object.fromEntries(plain!.headers)['content-encoding']).toBeUndefined();
    expect(Object.fromEntries(br!.notModified)).toEqual({
      etag: br!.etag,
      'cache-control': 'no-cache',
      vary: 'accept-encoding',
    });
    expect(rep.bytes).toBe(br!.body.length + gz!.body.length + text.length);
  });

  it('keep no compressed variant that is not smaller, and never compress images', () => {
    expect(representSync(Buffer.from('{}'), { ...options, type: 'application/json' }).codings).toEqual([
      'identity',
    ]);
    expect(representSync(text, { ...options, type: 'image/png' }).codings).toEqual(['identity']);
  });

  it('answer 304 only for the tag of the variant the request selects, 406 when none is acceptable', () => {
    const rep = representSync(text, options);
    const [br, gz, plain] = rep.variants;
    expect(select(rep, 'gzip, br', '')).toEqual({ status: '200 OK', variant: br });
    expect(select(rep, 'gzip, br', br!.etag)).toEqual({ status: '304 Not Modified', variant: br });
    expect(select(rep, 'gzip, br', `"old", W/${br!.etag}`).status).toBe('304 Not Modified');
    expect(select(rep, 'gzip, br', '*').status).toBe('304 Not Modified');
    // A tag of another coding is another representation (RFC 9110 §8.8.3): send this one.
    expect(select(rep, 'gzip', br!.etag)).toEqual({ status: '200 OK', variant: gz });
    expect(select(rep, '', plain!.etag)).toEqual({ status: '304 Not Modified', variant: plain });
    expect(select(rep, 'identity;q=0, zstd', br!.etag)).toEqual({
      status: '406 Not Acceptable',
      variant: null,
    });
  });
});

describe('content types', () => {
  it('name text as UTF-8, JSON without a charset, unknown files as octet-stream', () => {
    expect(contentTypeOf('/')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('/official/')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('/assets/main-AB.js')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('snapshots/3.csv')).toBe('text/csv; charset=utf-8');
    expect(contentTypeOf('latest.json')).toBe('application/json');
    expect(contentTypeOf('favicon.ico')).toBe('image/x-icon');
    expect(contentTypeOf('a.PNG')).toBe('image/png');
    expect(contentTypeOf('.env')).toBe('application/octet-stream');
    expect(contentTypeOf('README')).toBe('application/octet-stream');
  });
});
