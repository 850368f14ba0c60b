// Numbers, percentages, dates and plural forms in kk, ru and en without the
// browser's locale data: many browsers ship no Kazakh data and fall back to
// "800,000" and "2026 M12 4". The few patterns needed are here (CLDR).
// Shared by the voter page (bundled) and the results site (served as
// /web/format.js). Imports nothing.

const NBSP = '\u00a0';

/** Thousands separator and decimal mark of each language. */
const SEPARATORS = {
  kk: { group: NBSP, decimal: ',' },
  ru: { group: NBSP, decimal: ',' },
  en: { group: ',', decimal: '.' },
};

const separatorsOf = (lang) => SEPARATORS[lang] ?? SEPARATORS.en;

/**
 * `n` with grouped thousands: kk/ru `800 000`, `45,2`; en `800,000`, `45.2`.
 * `fractionDigits` fixes the digits after the mark; without it, up to 3 are
 * shown and trailing zeros dropped (as `Intl.NumberFormat` does).
 */
export function formatNumber(lang, n, fractionDigits) {
  if (!Number.isFinite(n)) return String(n);
  const { group, decimal } = separatorsOf(lang);
  const fixed = Math.abs(n).toFixed(fractionDigits ?? 3);
  let [whole, fraction = ''] = fixed.split('.');
  if (fractionDigits === undefined) fraction = fraction.replace(/0+$/, '');
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, group);
  const negative = n < 0 && /[1-9]/.test(fixed);
  return `${negative ? '-' : ''}${grouped}${fraction === '' ? '' : decimal + fraction}`;
}

/** `ratio` (0.452) as a percentage with `digits` decimals: kk `45,2%`, ru `45,2 %`, en `45.2%`. */
export function formatPercent(lang, ratio, digits = 1) {
  const number = formatNumber(lang, Number.isFinite(ratio) ? ratio * 100 : 0, digits);
  return lang === 'ru' ? `${number}${NBSP}%` : `${number}%`;
}

const MONTHS = {
  // Kazakh: nominative after the day ("4 желтоқсан").
  kk: [
    'қаңтар',
    'ақпан',
    'наурыз',
    'сәуір',
    'мамыр',
    'маусым',
    'шілде',
    'тамыз',
    'қыркүйек',
    'қазан',
    'қараша',
    'желтоқсан',
  ],
  // Russian: genitive after the day ("4 декабря").
  ru: [
    'января',
    'февраля',
    'марта',
    'апреля',
    'мая',
    'июня',
    'июля',
    'августа',
    'сентября',
    'октября',
    'ноября',
    'декабря',
  ],
  en: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
};

const DATE_PATTERNS = {
  kk: (d, m, y) => `${y}${NBSP}ж. ${d} ${m}`,
  ru: (d, m, y) => `${d} ${m} ${y}${NBSP}г.`,
  en: (d, m, y) => `${d} ${m} ${y}`,
};

const fieldFormats = new Map();

/** The calendar fields of `date` in `timeZone` (the browser's when undefined), from data every browser has. */
function fieldsOf(date, timeZone, seconds) {
  const key = `${timeZone ?? ''}|${seconds}`;
  let format = fieldFormats.get(key);
  if (format === undefined) {
    const options = {
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    };
    if (seconds) options.second = '2-digit';
    if (timeZone !== undefined) options.timeZone = timeZone;
    format = new Intl.DateTimeFormat('en-GB', options);
    fieldFormats.set(key, format);
  }
  const fields = {};
  for (const part of format.formatToParts(date)) if (part.type !== 'literal') fields[part.type] = part.value;
  return fields;
}

/**
 * A moment (ISO string, Date or epoch ms) as kk `2026 ж. 4 желтоқсан, 20:21`,
 * ru `4 декабря 2026 г., 20:21`, en `4 December 2026, 20:21`; `date: false`
 * gives the time only, `time: false` the date only, `seconds: true` adds them.
 */
export function formatDateTime(lang, when, options = {}) {
  const { timeZone, date = true, time = true, seconds = false } = options;
  const at = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(at.getTime())) return typeof when === 'string' ? when : '';
  const f = fieldsOf(at, timeZone, seconds);
  const clock = `${f.hour}:${f.minute}${seconds ? `:${f.second}` : ''}`;
  if (!date) return clock;
  const months = MONTHS[lang] ?? MONTHS.en;
  const day = (DATE_PATTERNS[lang] ?? DATE_PATTERNS.en)(Number(f.day), months[Number(f.month) - 1], f.year);
  return time ? `${day}, ${clock}` : day;
}

/**
 * CLDR plural rules for when the browser has none for the language; operands
 * as CLDR names them: n the absolute value, i its integer digits, v the count
 * of visible fraction digits.
 */
const RULES = {
  kk: ({ n }) => (n === 1 ? 'one' : 'other'),
  en: ({ i, v }) => (i === 1 && v === 0 ? 'one' : 'other'),
  ru: ({ i, v }) => {
    if (v !== 0) return 'other';
    const d = i % 10;
    const dd = i % 100;
    if (d === 1 && dd !== 11) return 'one';
    if (d >= 2 && d <= 4 && (dd < 12 || dd > 14)) return 'few';
    return 'many';
  },
};

const browserRules = new Map();

/** The browser's `Intl.PluralRules` for `lang` if it really has that language, else null. */
function browserRulesFor(lang) {
  if (!browserRules.has(lang)) {
    let rules = null;
    try {
      const candidate = new Intl.PluralRules(lang);
      if (candidate.resolvedOptions().locale.startsWith(lang)) rules = candidate;
    } catch {
      rules = null;
    }
    browserRules.set(lang, rules);
  }
  return browserRules.get(lang);
}

/** CLDR plural category of `n` in `lang`: 'one', 'few', 'many' or 'other'. */
export function pluralCategory(lang, n) {
  const rules = browserRulesFor(lang);
  if (rules !== null) return rules.select(n);
  const abs = Math.abs(n);
  const i = Math.trunc(abs);
  const v = Number.isInteger(abs) ? 0 : String(abs).split('.')[1].length;
  return (RULES[lang] ?? RULES.en)({ n: abs, i, v });
}

/** The form for `n`: `forms[category]`, else `forms.other`. */
export function plural(lang, n, forms) {
  return forms[pluralCategory(lang, n)] ?? forms.other;
}
