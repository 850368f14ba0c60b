/**
 * The voter client's pure parts, without a browser: the three message
 * catalogues say the same things (same keys, every CLDR plural form the
 * language needs, every API error code), and ballot bodies are padded to one
 * size whatever the choices.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import {
  ballotBody,
  ballotBytes,
  buildManifest,
  type ElectionKeys,
  loadElection,
} from '../election/index.js';
import { API_CODES, RETRIED_CODES } from '../ingest/client/src/codes.js';
import { ERROR_CODES } from '../ingest/errors.js';

type Catalogue = Record<string, string | Record<string, string>>;
const LANGS = ['kk', 'ru', 'en'] as const;
const catalogues = Object.fromEntries(
  LANGS.map((lang) => [
    lang,
    JSON.parse(readFileSync(join(repoRoot, 'ingest', 'client', 'i18n', `${lang}.json`), 'utf8')) as Catalogue,
  ]),
) as Record<(typeof LANGS)[number], Catalogue>;

describe('message catalogues', () => {
  it('have the same keys in Kazakh, Russian and English', () => {
    const keys = Object.keys(catalogues.en).sort();
    for (const lang of LANGS) expect(Object.keys(catalogues[lang]).sort()).toEqual(keys);
  });

  it('give every plural message each form Intl.PluralRules can pick', () => {
    for (const lang of LANGS) {
      const forms = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      for (const [key, message] of Object.entries(catalogues[lang])) {
        if (typeof message === 'string') continue;
        for (const form of forms) expect(message[form], `${lang} ${key} ${form}`).toBeTypeOf('string');
      }
    }
  });

  it('explain every error code the API returns, and the client knows each code', () => {
    for (const code of ERROR_CODES) {
      expect(API_CODES).toContain(code);
      for (const lang of LANGS) {
        expect(catalogues[lang][`error.${code}.title`], `${lang} ${code}`).toBeTypeOf('string');
        expect(catalogues[lang][`error.${code}.text`], `${lang} ${code}`).toBeTypeOf('string');
      }
    }
  });

  it('say what is happening while a retriable code is retried (the waiting panel)', () => {
    expect(RETRIED_CODES).toContain('rate_limited');
    for (const code of RETRIED_CODES) {
      for (const lang of LANGS)
        expect(catalogues[lang][`wait.${code}`], `${lang} ${code}`).toBeTypeOf('string');
    }
  });

  it('write Kazakh with its own letters', () => {
    const text = JSON.stringify(catalogues.kk);
    for (const letter of 'әғқңөұүі') expect(text).toContain(letter);
  });
});

describe('fixed-length ballot bodies', () => {
  it('pads every ballot of the sample election to one size within the 8 KiB limit', async () => {
    const index = loadElection('sample');
    // Only key sizes matter here: one real 2048-bit public key stands in for every district's.
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
    const keys = {
      districts: new Map(index.config.districts.map((d) => [d.id, { spki }])),
      snapshot: { spki },
    } as unknown as ElectionKeys;
    const manifest = buildManifest(index, keys);
    const size = ballotBytes(manifest);
    expect(size % 1024).toBe(0);
    expect(size).toBeLessThanOrEqual(8192);
    const message = 'm'.repeat(86);
    const signature = 's'.repeat(342);
    const sizes = new Set<number>();
    for (const district of manifest.districts) {
      const races = index.racesOf(district.id);
      const blank = races.map((r) => ({ race: r.id, choices: [] }));
      const full = races.map((r) => ({
        race: r.id,
        choices: r.candidates.slice(0, r.maxChoices).map((c) => c.id),
      }));
      for (const selections of [blank, full]) {
        const body = ballotBody(manifest.id, district.id, message, signature, selections, size);
        sizes.add(Buffer.byteLength(body));
        const parsed = JSON.parse(body);
        expect(parsed.pad).toMatch(/^ *$/);
        expect(parsed.selections).toEqual(selections);
      }
    }
    expect([...sizes]).toEqual([size]);
  });
});
