/**
 * What tells a voter the page is the real one and whom to ask: the
 * organiser and the closing time under the election's name, the help
 * contact and a one-paragraph privacy note at the foot of every view — all
 * from the election config's `about` (carried in the manifest), painted
 * again when the language changes.
 */
import { byId, h } from './dom.js';
import { dateTime, nameOf, t } from './i18n.js';
import type { ElectionSummary, Names } from './manifest.js';

/** The config's `about` (election/config-schema.ts `About`), as the summary carries it. */
export type About = NonNullable<ElectionSummary['about']>;

/** What every view says about the election: the manifest has it, and so does the summary. */
export interface ElectionFacts {
  readonly names: Names;
  readonly closes: string;
  readonly about?: About;
}

/** The help desk: who, and its phone, email and address as links; empty without `about`. */
export function helpContact(about: About | undefined): HTMLElement[] {
  if (about === undefined) return [];
  const { help } = about;
  const links: HTMLElement[] = [];
  if (help.phone !== undefined)
    links.push(h('a', { href: `tel:${help.phone.replace(/[^\d+]/g, '')}` }, help.phone));
  if (help.email !== undefined) links.push(h('a', { href: `mailto:${help.email}` }, help.email));
  if (help.url !== undefined) links.push(h('a', { href: help.url }, help.url));
  return [
    h('p', {}, nameOf(help.names)),
    links.length > 0 ? h('p', { class: 'contact' }, ...links) : null,
  ].filter((el) => el !== null);
}

/** The organiser and closing time in the header, help and privacy in the footer. */
export function paintTrust(facts: ElectionFacts | null): void {
  const line = byId('trust');
  const foot = byId('about');
  if (facts === null) {
    line.replaceChildren();
    foot.replaceChildren();
    return;
  }
  const about = facts.about;
  line.replaceChildren(
    about === undefined
      ? ''
      : h('span', { class: 'organiser' }, t('trust.organiser', { organiser: nameOf(about.organiser) })),
    h('span', { class: 'closes' }, t('trust.closes', { time: dateTime(facts.closes) })),
  );
  if (about === undefined) {
    foot.replaceChildren();
    return;
  }
  foot.replaceChildren(
    h('h2', {}, t('trust.help')),
    ...helpContact(about),
    h('h2', {}, t('trust.privacy')),
    h('p', {}, nameOf(about.privacy)),
  );
}
