/** Numbers, percentages, dates and plural forms without the browser's locale data (see format.js). */

export type WebLang = 'kk' | 'ru' | 'en';
export type PluralCategory = 'zero' | 'one' | 'two' | 'few' | 'many' | 'other';
/** Forms of a message by plural category; `other` is the fallback. */
export type PluralForms<T> = Partial<Record<PluralCategory, T>> & { readonly other: T };

export interface DateTimeOptions {
  /** IANA zone; the browser's when absent. */
  readonly timeZone?: string;
  /** Show the date (default true). */
  readonly date?: boolean;
  /** Show the time (default true). */
  readonly time?: boolean;
  /** Show seconds (default false). */
  readonly seconds?: boolean;
}

/** kk/ru `800 000` (U+00A0), `45,2`; en `800,000`, `45.2`. */
export function formatNumber(lang: string, n: number, fractionDigits?: number): string;
/** kk `45,2%`, ru `45,2 %` (U+00A0), en `45.2%`. */
export function formatPercent(lang: string, ratio: number, digits?: number): string;
/** kk `2026 ж. 4 желтоқсан, 20:21`, ru `4 декабря 2026 г., 20:21`, en `4 December 2026, 20:21`. */
export function formatDateTime(lang: string, when: string | number | Date, options?: DateTimeOptions): string;
export function pluralCategory(lang: string, n: number): PluralCategory;
export function plural<T>(lang: string, n: number, forms: PluralForms<T>): T;
