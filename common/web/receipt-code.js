// The receipt code is the ballot id: 26 characters of RFC 4648 base32
// (A–Z, 2–7), so 0, 1 and 8 never occur in it. A voter copying it by hand may
// still type them for O, I and B, in lower case, with spaces or hyphens: the
// lookup accepts all of that. Imports nothing.

const CODE = /^[A-Z2-7]{26}$/;
const LOOK_ALIKES = { 0: 'O', 1: 'I', 8: 'B' };

/** The code as published (26 upper-case base32 characters), or null if `input` cannot be one. */
export function normaliseReceiptCode(input) {
  const code = String(input)
    .toUpperCase()
    .replace(/[\s\u00a0\-\u2010-\u2015]/g, '')
    .replace(/[018]/g, (digit) => LOOK_ALIKES[digit]);
  return CODE.test(code) ? code : null;
}

/**
 * The code in groups of 4 (the last of 2), to show each in its own
 * `white-space: nowrap` span: a line breaks between groups, never inside one.
 */
export function groupReceiptCode(code) {
  return code.match(/.{1,4}/g) ?? [];
}
