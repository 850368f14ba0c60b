/**
 * "Words used here" / «Словарь» / «Сөздік»: the glossary both public sites
 * share (`common/web/glossary.js`), in the page's footer. Its words are
 * fetched when the voter first opens it, so they stay off the critical path.
 */
import { byId, h } from './dom.js';
import { lang, t } from './i18n.js';

type Glossary = typeof import('../../../common/web/glossary.js');

let glossary: Promise<Glossary> | null = null;
let wired = false;

async function fillList(): Promise<void> {
  glossary ??= import('../../../common/web/glossary.js');
  const { GLOSSARY, TERM_IDS } = await glossary;
  const words = GLOSSARY[lang()];
  byId('glossary-list').replaceChildren(
    ...TERM_IDS.flatMap((id) => [
      h('dt', { 'data-term': id }, words[id].term),
      h('dd', {}, words[id].definition),
    ]),
  );
}

/** Labels the footer's glossary in the current language (and refills it if open). */
export function paintGlossary(): void {
  const details = byId<HTMLDetailsElement>('glossary');
  if (!wired) {
    wired = true;
    details.addEventListener('toggle', () => {
      if (details.open) void fillList();
    });
  }
  byId('glossary-title').textContent = t('glossary.title');
  if (details.open) void fillList();
}

/** A link to the glossary (from the sign-in view): opens it and moves there. */
export function glossaryLink(): HTMLElement {
  const link = h('a', { href: '#glossary', class: 'glossary-link' }, t('glossary.link'));
  link.addEventListener('click', () => {
    byId<HTMLDetailsElement>('glossary').open = true;
  });
  return h('p', {}, link);
}
