/**
 * common/web/: numbers, percentages, dates and plural forms in kk/ru/en
 * without the browser's locale data, the glossary's shape, and receipt codes
 * as people type and read them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatDateTime, formatNumber, formatPercent, plural, pluralCategory } from '../common/web/format.js';
import { GLOSSARY, TERM_IDS } from '../common/web/glossary.js';
import { groupReceiptCode, normaliseReceiptCode } from '../common/web/receipt-code.js';

const NBSP = '\u00a0';

describe('formatNumber', () => {
  it('groups kk and ru thousands with U+00A0 and a decimal comma', () => {
    for (const lang of ['kk', 'ru']) {
      expect(formatNumber(lang, 800000)).toBe(`800${NBSP}000`);
      expect(formatNumber(lang, 1234567)).toBe(`1${NBSP}234${NBSP}567`);
      expect(formatNumber(lang, 45.2)).toBe('45,2');
      expect(formatNumber(lang, -1234.5)).toBe(`-1${NBSP}234,5`);
    }
  });

  it('groups en thousands with a comma and a decimal point', () => {
    expect(formatNumber('en', 800000)).toBe('800,000');
    expect(formatNumber('en', 45.2)).toBe('45.2');
    expect(formatNumber('en', 999)).toBe('999');
    expect(formatNumber('en', 0)).toBe('0');
  });

  it('fixes the fraction digits when asked, else shows up to 3 without trailing zeros', () => {
    expect(formatNumber('ru', 2, 1)).toBe('2,0');
    expect(formatNumber('en', 1 / 3)).toBe('0.333');
    expect(formatNumber('kk', 1.5)).toBe('1,5');
    expect(formatNumber('en', -0.0001)).toBe('0');
  });
});

describe('formatPercent', () => {
  it('kk 45,2%, ru 45,2 % (U+00A0), en 45.2%', () => {
    expect(formatPercent('kk', 0.452)).toBe('45,2%');
    expect(formatPercent('ru', 0.452)).toBe(`45,2${NBSP}%`);
    expect(formatPercent('en', 0.452)).toBe('45.2%');
    expect(formatPercent('en', 0.5, 0)).toBe('50%');
    expect(formatPercent('kk', 1)).toBe('100,0%');
    expect(formatPercent('en', Number.NaN)).toBe('0.0%');
  });
});

describe('formatDateTime', () => {
  const at = '2026-12-04T20:21:09Z';
  const utc = { timeZone: 'UTC' };

  it('writes month names in each language, in the given time zone', () => {
    expect(formatDateTime('kk', at, utc)).toBe(`2026${NBSP}ж. 4 желтоқсан, 20:21`);
    expect(formatDateTime('ru', at, utc)).toBe(`4 декабря 2026${NBSP}г., 20:21`);
    expect(formatDateTime('en', at, utc)).toBe('4 December 2026, 20:21');
    expect(formatDateTime('en', at, { timeZone: 'Asia/Tokyo' })).toBe('5 December 2026, 05:21');
  });

  it('takes a Date or epoch ms; date only, time only, seconds', () => {
    const ms = Date.parse('2026-01-01T00:05:00Z');
    expect(formatDateTime('ru', new Date(ms), { ...utc, time: false })).toBe(`1 января 2026${NBSP}г.`);
    expect(formatDateTime('kk', ms, { ...utc, time: false })).toBe(`2026${NBSP}ж. 1 қаңтар`);
    expect(formatDateTime('kk', ms, { ...utc, date: false })).toBe('00:05');
    expect(formatDateTime('en', at, { ...utc, date: false, seconds: true })).toBe('20:21:09');
  });

  it('gives an unreadable string back as it is', () => {
    expect(formatDateTime('en', 'soon')).toBe('soon');
  });
});

describe('plural', () => {
  it('ru: one 1, 21; few 2, 22; many 5, 11, 25; other for fractions', () => {
    const cases: [number, string][] = [
      [1, 'one'],
      [2, 'few'],
      [5, 'many'],
      [11, 'many'],
      [21, 'one'],
      [22, 'few'],
      [25, 'many'],
      [0, 'many'],
      [112, 'many'],
      [1.5, 'other'],
    ];
    for (const [n, category] of cases) expect(pluralCategory('ru', n), `ru ${n}`).toBe(category);
  });

  it('kk and en: one for 1, other otherwise', () => {
    for (const lang of ['kk', 'en']) {
      expect(pluralCategory(lang, 1)).toBe('one');
      for (const n of [0, 2, 5, 11, 21]) expect(pluralCategory(lang, n), `${lang} ${n}`).toBe('other');
    }
  });

  it('picks the form, else other', () => {
    const seats = { one: '{n} место', few: '{n} места', many: '{n} мест', other: '{n} места' };
    expect(plural('ru', 21, seats)).toBe('{n} место');
    expect(plural('ru', 3, seats)).toBe('{n} места');
    expect(plural('ru', 11, seats)).toBe('{n} мест');
    expect(plural('en', 1, { other: 'seats' })).toBe('seats');
  });
});

describe('without locale data for kk and ru in the browser', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  /** format.js loaded afresh where Intl knows only English (a browser without Kazakh data throws or falls back). */
  async function formatWithoutLocaleData(): Promise<typeof import('../common/web/format.js')> {
    const english = (locales: unknown) => String(locales).startsWith('en');
    const real = Intl;
    const intl = Object.create(real) as typeof Intl;
    Object.assign(intl, {
      PluralRules: function PluralRules(locales: string) {
        if (!english(locales)) throw new RangeError(`no locale data for ${locales}`);
        return new real.PluralRules(locales);
      },
      DateTimeFormat: function DateTimeFormat(locales: string, options?: Intl.DateTimeFormatOptions) {
        if (!english(locales)) throw new RangeError(`no locale data for ${locales}`);
        return new real.DateTimeFormat(locales, options);
      },
    });
    vi.stubGlobal('Intl', intl);
    vi.resetModules();
    return import('../common/web/format.js');
  }

  it('uses the shipped CLDR plural rules and month names', async () => {
    const f = await formatWithoutLocaleData();
    const ru = [1, 2, 5, 11, 21, 22, 25].map((n) => f.pluralCategory('ru', n));
    expect(ru).toEqual(['one', 'few', 'many', 'many', 'one', 'few', 'many']);
    expect([1, 2, 21].map((n) => f.pluralCategory('kk', n))).toEqual(['one', 'other', 'other']);
    expect(f.pluralCategory('ru', 1.5)).toBe('other');
    expect(f.formatDateTime('kk', '2026-12-04T20:21:00Z', { timeZone: 'UTC' })).toBe(
      `2026${NBSP}ж. 4 желтоқсан, 20:21`,
    );
    expect(f.formatNumber('kk', 800000)).toBe(`800${NBSP}000`);
  });
});

describe('GLOSSARY', () => {
  it('has every term in kk, ru and en, with a definition and lower-case avoid stems', () => {
    for (const lang of ['kk', 'ru', 'en'] as const)
      for (const id of TERM_IDS) {
        const entry = GLOSSARY[lang][id];
        expect(entry.term, `${lang} ${id}`).not.toBe('');
        expect(entry.definition.length, `${lang} ${id}`).toBeGreaterThan(20);
        for (const stem of entry.avoid) expect(stem).toBe(stem.toLowerCase());
      }
  });

  it('one word for the credential per language; neither race word is a competition', () => {
    expect(GLOSSARY.ru.credential.term).toBe('допуск');
    expect(GLOSSARY.kk.credential.term).toBe('рұқсат');
    expect(GLOSSARY.en.credential.term).toBe('credential');
    expect(GLOSSARY.ru.credential.avoid).toContain('удостоверени');
    expect(GLOSSARY.kk.credential.avoid).toContain('куәлі');
    expect(GLOSSARY.ru.race.term).not.toMatch(/гонк/);
    expect(GLOSSARY.kk.race.term).not.toMatch(/жарыс/);
  });
});

describe('receipt codes', () => {
  const code = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

  it('upper-cases and drops spaces, hyphens and U+00A0', () => {
    expect(normaliseReceiptCode('abcd-efgh ijkl\u00a0mnop-qrst-uvwx-yz')).toBe(code);
    expect(normaliseReceiptCode(' AB23 4567 ')).toBeNull();
  });

  it('reads 0 as O, 1 as I, 8 as B (they never occur in base32)', () => {
    expect(normaliseReceiptCode('A8CDEFGH1JKLMN0PQRSTUVWXYZ')).toBe(code);
  });

  it('refuses anything that is not 26 characters of A-Z, 2-7', () => {
    expect(normaliseReceiptCode(code.slice(1))).toBeNull();
    expect(normaliseReceiptCode(`${code}A`)).toBeNull();
    expect(normaliseReceiptCode(`${code.slice(1)}9`)).toBeNull();
    expect(normaliseReceiptCode('')).toBeNull();
  });

  it('groups by 4, the last group of 2', () => {
    expect(groupReceiptCode(code)).toEqual(['ABCD', 'EFGH', 'IJKL', 'MNOP', 'QRST', 'UVWX', 'YZ']);
  });
});
