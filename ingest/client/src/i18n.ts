/**
 * Kazakh, Russian and English. Every string lives in `i18n/<lang>.json`
 * (content-hashed by the build; the map arrives as `__CATALOGUES__`). A
 * message is a string with `{name}` slots, or an object of CLDR plural forms
 * chosen with `Intl.PluralRules` (Russian needs one/few/many; Kazakh and
 * English one/other).
 */

import type { Names } from './manifest.js';

declare const __CATALOGUES__: Record<string, string>;

export const LANGS = ['kk', 'ru', 'en'] as const;
export type Lang = (typeof LANGS)[number];

type Message = string | Readonly<Record<string, string>>;
type Catalogue = Readonly<Record<string, Message>>;

const LANG_KEY = 'saylau:lang';
const loaded = new Map<Lang, Catalogue>();
let current: Lang = 'kk';
let rules = new Intl.PluralRules('kk');

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
  rules = new Intl.PluralRules(next);
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

function fill(text: string, vars: Readonly<Record<string, string | number>>): string {
  return text.replace(/\{(\w+)\}/g, (slot, name: string) => {
    const value = vars[name];
    if (value === undefined) return slot;
    return typeof value === 'number' ? value.toLocaleString(current) : value;
  });
}

/** The message `key` in the current language; a plural message is chosen by `vars.n`. */
export function t(key: string, vars: Readonly<Record<string, string | number>> = {}): string {
  const message = loaded.get(current)?.[key];
  if (message === undefined) return key;
  if (typeof message === 'string') return fill(message, vars);
  const n = typeof vars.n === 'number' ? vars.n : 0;
  const form = message[rules.select(n)] ?? message.other ?? key;
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
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'long', timeStyle: 'short' }).format(at);
}
