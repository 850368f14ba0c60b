/**
 * Identity tokens as the pages see them: taken from the `#token=` fragment
 * an identity provider redirects back with, and their claims read (not
 * verified — ingest verifies; the page only shows and routes by them).
 */
import { fromB64u } from './bytes.js';

/** Takes `#token=…` from the address and removes it from the address bar (and history). */
export function tokenFromFragment(): string | null {
  const match = /[#&]token=([A-Za-z0-9_.-]+)/.exec(location.hash);
  if (match === null) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return match[1]!;
}

/** The payload of a JWT; null when it is not one. */
export function claimsOf(token: string): Readonly<Record<string, unknown>> | null {
  try {
    const payload: unknown = JSON.parse(new TextDecoder().decode(fromB64u(token.split('.')[1] ?? '')));
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
