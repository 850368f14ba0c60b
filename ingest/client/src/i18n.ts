/**
 * Kazakh, Russian and English. Every string lives in `i18n/<lang>.json`
 * (content-hashed by the build; the map arrives as `__CATALOGUES__`). A
 * message is a string with `{name}` slots, or an object of CLDR plural forms
 * chosen by `plural()` (Russian needs one/few/many; Kazakh and English
 * one/other). Numbers, dates and plural categories come from
 * `common/web/format.js`, shared with the results site: it does not depend on
 * the browser having Kazakh locale data.
 */

import { formatDateTime, formatNumber, type PluralForms, plural } from '../../../common/web/format.js';
import type { Names } from './manifest.js';

declare const __CATALOGUES__: Record<string, string>;

export const LANGS = ['kk', 'ru', 'en'] as const;
export type Lang = (typeof LANGS)[number];

type Message = string | Readonly<Record<string, string>>;
type Catalogue = Readonly<Record<string, Message>>;

const LANG_KEY = 'saylau:lang';
const loaded = new Map<Lang, Catalogue>();
let current: Lang = 'kk';

export function lang(): Lang {
  return current;
}

const isLang = (value: string | null | undefined): value is Lang =>
  value !== null && value !== undefined && (LANGS as readonly string[]).includes(value);

/** The saved choice, else the browser's first supported language, else Kazakh. */
export function preferredLang(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (isLang(saved)) return saved;
  for (const tag of navigator.languages ?? []) {
    const base = tag.slice(0, 2).toLowerCase();
    if (isLang(base)) return base;
  }
  return 'kk';
}

export async function useLang(next: Lang, fetchJson: (url: string) => Promise<unknown>): Promise<void> {
  if (!loaded.has(next)) {
    const url = __CATALOGUES__[next];
    if (url === undefined) throw new Error(`no catalogue for ${next}`);
    loaded.set(next, (await fetchJson(url)) as Catalogue);
  }
  current = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

function fill(text: string, vars: Readonly<Record<string, string | number>>): string {
  return text.replace(/\{(\w+)\}/g, (slot, name: string) => {
    const value = vars[name];
    if (value === undefined) return slot;
    return typeof value === 'number' ? formatNumber(current, value) : value;
  });
}

/** The message `key` in the current language; a plural message is chosen by `vars.n`. */
export function t(key: string, vars: Readonly<Record<string, string | number>> = {}): string {
  const message = loaded.get(current)?.[key];
  if (message === undefined) return key;
  if (typeof message === 'string') return fill(message, vars);
  const n = typeof vars.n === 'number' ? vars.n : 0;
  const form = plural(current, n, { other: key, ...message } as PluralForms<string>);
  return fill(form, vars);
}

/** Whether the catalogue has `key` (used for per-error-code messages). */
export function has(key: string): boolean {
  return loaded.get(current)?.[key] !== undefined;
}

export function nameOf(names: Names): string {
  return names[current];
}

/** An ISO time in the voter's language and time zone (a pause's "until", the opening). */
export function dateTime(iso: string): string {
  return formatDateTime(current, iso);
}
