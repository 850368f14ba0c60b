// What every section of the results view needs to write in one language:
// its strings, names from the snapshot, and numbers, shares, times and
// counted nouns formatted by common/web/format.js (no browser locale data).

import { formatDateTime, formatNumber, formatPercent, plural } from './web/format.js';

/**
 * `count(n, forms)` picks the plural form for `n` (`{ one, few, many, other }`,
 * each with `{n}` where the number goes) and puts the formatted number in.
 */
export function viewContext(lang, strings) {
  const num = (n) => formatNumber(lang, n);
  return {
    lang,
    t: strings,
    name: (names) => names[lang] ?? names.en,
    num,
    share: (part, whole) => formatPercent(lang, whole > 0 ? part / whole : 0),
    time: (when) => formatDateTime(lang, when),
    count: (n, forms) => plural(lang, n, forms).replace('{n}', num(n)),
  };
}
