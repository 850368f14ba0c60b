/**
 * A JSON body fixed at start-up (the election list, the manifest), served
 * the way the static files are: Brotli/gzip/plain chosen by `Accept-Encoding`
 * with q-values, a strong ETag per variant, `304` on `If-None-Match`
 * (lists, weak tags, `*`), `406` when the client refuses everything held.
 * The negotiation is common/static-files/'s, shared with both sites; every
 * possible {@link Reply} is built here once (STYLE 7), so a request only
 * chooses one.
 */
import { type Representation, representSync } from '../../common/static-files/representation.js';
import { select } from '../../common/static-files/send.js';
import { IngestError } from '../errors.js';
import { type Exchange, JSON_TYPE, type Reply } from './exchange.js';
import { NOT_MODIFIED } from './respond.js';

const EMPTY = Buffer.alloc(0);

interface Replies {
  readonly ok: Reply;
  readonly notModified: Reply;
}

export class FixedJson {
  readonly #rep: Representation;
  /** Parallel to the representation's variants. */
  readonly #replies: readonly Replies[];

  constructor(body: Buffer, cacheControl: string) {
    this.#rep = representSync(body, { type: JSON_TYPE, cacheControl, effort: 'max' });
    this.#replies = this.#rep.variants.map((v) => ({
      // The router writes Content-Type itself.
      ok: {
        status: '200 OK',
        contentType: JSON_TYPE,
        body: v.body,
        headers: v.headers.filter(([name]) => name !== 'content-type'),
      },
      notModified: { status: NOT_MODIFIED, contentType: JSON_TYPE, body: EMPTY, headers: v.notModified },
    }));
  }

  /** The answer for this request's `Accept-Encoding` and `If-None-Match`. */
  reply(ex: Exchange): Reply {
    const selection = select(this.#rep, ex.acceptEncoding, ex.ifNoneMatch);
    if (selection.variant === null) throw new IngestError('not_acceptable');
    const replies = this.#replies[this.#rep.variants.indexOf(selection.variant)]!;
    return selection.status === NOT_MODIFIED ? replies.notModified : replies.ok;
  }
}
