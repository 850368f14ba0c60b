/** Receipt codes (ballot ids) typed and shown by people (see receipt-code.js). */

/** Upper-cased, spaces/hyphens/U+00A0 dropped, 0→O 1→I 8→B; null unless 26 characters of A–Z, 2–7. */
export function normaliseReceiptCode(input: string): string | null;
/** Groups of 4, the last of 2. */
export function groupReceiptCode(code: string): string[];
