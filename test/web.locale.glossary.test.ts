/**
 * Both public sites speak the glossary's words (common/web/glossary.js): no
 * string of the voter page, the official's page, the results site or the
 * observers' page uses a word the glossary says to avoid for its meaning
 * («гонка» for a race, «удостоверение»/«куәлік» for the credential), and no
 * count is written "seat(s)" instead of choosing its plural form. Every
 * string is read as the pages get it: the JSON catalogues, and the results
 * site's message functions called with stand-in arguments.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import { GLOSSARY, TERM_IDS } from '../common/web/glossary.js';
import { installSite } from '../publisher/site-assets.js';

const LANGS = ['kk', 'ru', 'en'] as const;
type Lang = (typeof LANGS)[number];

/** Every string of a catalogue, named by its path. */
type Strings = [where: string, text: string][];

/**
 * A stand-in for any argument of a message function: any property of it is
 * itself, calling it gives itself, and it reads as a number or a word.
 */
const anything: unknown = new Proxy(() => undefined, {
  get: (_target, key) => (key === Symbol.toPrimitive ? () => 7 : anything),
  apply: () => anything,
});

/** Strings of a value: strings as they are, functions called with stand-ins, objects walked. */
function stringsOf(value: unknown, where: string, out: Strings): Strings {
  if (typeof value === 'string') out.push([where, value]);
  else if (typeof value === 'function') {
    const args = Array.from({ length: Math.max(value.length, 1) }, () => anything);
    const message = value as (...a: unknown[]) => unknown;
    stringsOf(message(...args), where, out);
    // Messages that choose a form by a count, with counts for each Russian form (not those taking objects).
    for (const n of [1, 2, 5]) {
      let text: unknown;
      try {
        text = message(...args.map(() => n));
      } catch {
        continue;
      }
      stringsOf(text, `${where}(${n})`, out);
    }
  } else if (value !== null && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) stringsOf(inner, `${where}.${key}`, out);
  return out;
}

let siteDir: string;
const catalogues: Record<Lang, Strings> = { kk: [], ru: [], en: [] };

beforeAll(async () => {
  for (const lang of LANGS) {
    for (const [page, dir] of [
      ['voter', 'ingest/client/i18n'],
      ['official', 'ingest/client/official/i18n'],
    ] as const) {
      const json = JSON.parse(await readFile(join(repoRoot, dir, `${lang}.json`), 'utf8')) as unknown;
      stringsOf(json, `${page} ${lang}`, catalogues[lang]);
    }
  }
  // The election's own words shown on both sites (organiser, help, privacy note) in the shipped configs.
  for (const config of ['sample', 'tiny']) {
    const { about } = JSON.parse(
      await readFile(join(repoRoot, 'election', 'configs', `${config}.json`), 'utf8'),
    ) as { about: unknown };
    for (const lang of LANGS) stringsOf(pick(about, lang), `config ${config} ${lang}`, catalogues[lang]);
  }
  // The results site's modules import ./web/format.js, which exists once the site is installed.
  siteDir = await mkdtemp(join(tmpdir(), 'saylau-site-words-'));
  await installSite(siteDir);
  for (const [page, file] of [
    ['results', 'i18n.js'],
    ['observe', 'observe/i18n.js'],
  ] as const) {
    const { STRINGS } = (await import(pathToFileURL(join(siteDir, file)).href)) as {
      STRINGS: Record<Lang, unknown>;
    };
    for (const lang of LANGS) stringsOf(STRINGS[lang], `${page} ${lang}`, catalogues[lang]);
  }
});

afterAll(async () => {
  await rm(siteDir, { recursive: true, force: true });
});

/** The `lang` member of every `{kk, ru, en}` object in `value` (config texts), the rest dropped. */
function pick(value: unknown, lang: Lang): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record[lang] === 'string') return record[lang];
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, pick(v, lang)]));
}

/** `stem` at the start of a word, any case. */
const atWordStart = (stem: string) =>
  new RegExp(`(?<![\\p{L}\\p{N}])${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'iu');

describe("both sites' strings", () => {
  it('were all read (each site, each language)', () => {
    for (const lang of LANGS) {
      for (const page of ['voter', 'official', 'results', 'observe'])
        expect(
          catalogues[lang].filter(([where]) => where.startsWith(`${page} `)).length,
          `${page} ${lang}`,
        ).toBeGreaterThan(20);
    }
  });

  it('use none of the words the glossary says to avoid', () => {
    const found: string[] = [];
    for (const lang of LANGS)
      for (const id of TERM_IDS)
        for (const stem of GLOSSARY[lang][id].avoid) {
          const pattern = atWordStart(stem);
          for (const [where, text] of catalogues[lang])
            if (pattern.test(text)) found.push(`${where}: «${stem}» (${id}) in "${text}"`);
        }
    expect(found).toEqual([]);
  });

  it('choose plural forms rather than writing "(s)" or «(ов)»', () => {
    const hacks = catalogues.en
      .concat(catalogues.ru)
      .filter(([, text]) => /\p{L}\((s|es|ов|а|и|ы)\)/u.test(text))
      .map(([where, text]) => `${where}: ${text}`);
    expect(hacks).toEqual([]);
  });

  it("format through common/web/format.js: no toLocaleString or Intl number/date formats in the sites' code", async () => {
    const dirs = [
      'ingest/client/src',
      'ingest/client/official/src',
      'publisher/site',
      'publisher/site/observe',
    ];
    const found: string[] = [];
    for (const dir of dirs)
      for (const file of await readdir(join(repoRoot, dir))) {
        if (!/\.(ts|js)$/.test(file)) continue;
        const text = await readFile(join(repoRoot, dir, file), 'utf8');
        for (const call of text.match(/toLocale\w*String|Intl\.(NumberFormat|DateTimeFormat|PluralRules)/g) ??
          [])
          found.push(`${dir}/${file}: ${call}`);
      }
    expect(found).toEqual([]);
  });

  it('give the two Kazakh buttons of the results page distinct labels', async () => {
    const { STRINGS } = (await import(pathToFileURL(join(siteDir, 'i18n.js')).href)) as {
      STRINGS: Record<Lang, Record<string, unknown>>;
    };
    for (const lang of LANGS) expect(STRINGS[lang].receiptCheck, lang).not.toBe(STRINGS[lang].verifyRun);
  });
});
