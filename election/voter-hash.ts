/**
 * The voter pseudonym (DESIGN §3). Its own module because both the roll
 * loaders and the identity provider need it, and neither should import the other.
 */
import { createHmac } from 'node:crypto';

/**
 * HMAC-SHA256(election pepper, member id), hex. Raw member ids (IIN) never
 * go further than the roll import or the identity provider; everything
 * stored or sent carries this instead.
 */
export function voterHash(pepper: Buffer, memberId: string): string {
  return createHmac('sha256', pepper).update(memberId).digest('hex');
}
