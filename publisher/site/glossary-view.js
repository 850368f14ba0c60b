// "Words used here": the glossary both public sites share (web/glossary.js),
// as a definition list in the page's language.

import { el } from './dom.js';
import { GLOSSARY, TERM_IDS } from './web/glossary.js';

/** Fills `list` (a `<dl>`) with every term of the glossary in `lang` and what it means. */
export function renderGlossary(list, lang) {
  const words = GLOSSARY[lang] ?? GLOSSARY.en;
  list.replaceChildren(
    ...TERM_IDS.flatMap((id) => [
      el('dt', { 'data-term': id }, words[id].term),
      el('dd', {}, words[id].definition),
    ]),
  );
}
