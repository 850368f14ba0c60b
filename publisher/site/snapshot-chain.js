// The past snapshots from `snapshots/index.json` (newest first), each with
// its hash, the previous hash it names, and its files; a link between two
// neighbours is marked when the hashes agree, so the chain is visible.
// The in-browser verify (verify.js) is what checks it: this only shows it.

import { el } from './dom.js';

/** Renders the first `shown` entries; returns whether there are more. */
export function renderChain(list, v, index, shown) {
  const entries = index.snapshots;
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  list.replaceChildren(
    ...entries.slice(0, shown).map((e) => {
      const before = bySeq.get(e.seq - 1);
      const link =
        e.prevHash === null
          ? v.t.chainFirst
          : before === undefined
            ? v.t.chainPrev
            : before.hash === e.prevHash
              ? v.t.chainLinked(e.seq - 1)
              : v.t.chainBroken(e.seq - 1);
      const head = [
        el('strong', {}, v.t.chainSnapshot(e.seq)),
        ` · ${v.time(e.takenAt)} · ${v.count(e.codes, v.t.chainCodes)}`,
      ];
      if (e.final !== null) head.push(' · ', el('span', { class: 'badge' }, v.t.chainFinal(e.final)));
      return el(
        'li',
        { 'data-seq': String(e.seq) },
        el('p', {}, ...head),
        el('p', { class: 'hash' }, `${v.t.chainHash} `, el('code', {}, e.hash)),
        el('p', { class: 'hash' }, `${link} `, e.prevHash === null ? '' : el('code', {}, e.prevHash)),
        el(
          'p',
          {},
          el('a', { href: `snapshots/${e.seq}.json`, download: '' }, v.t.chainJson(e.seq)),
          ' · ',
          el('a', { href: `snapshots/${e.seq}.csv`, download: '' }, v.t.chainCsv(e.seq)),
        ),
      );
    }),
  );
  return entries.length > shown;
}
